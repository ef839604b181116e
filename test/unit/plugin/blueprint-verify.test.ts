import { appendFile, cp, mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { verifyBlueprint } from "../../../src/blueprint/verify.js";
import { digestOf, hashFiles, listBlueprintFiles } from "../../../src/blueprint/digest.js";
import { compareVersions } from "../../../src/blueprint/versions.js";
import { repoRoot } from "../../helpers/node24.js";

/** A small sealed blueprint, sealed the way scripts/seal-blueprint.ts does it. */
async function sealedFixture(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-bp-"));
  await cp(path.join(import.meta.dirname, "../../fixtures/blueprint"), dir, { recursive: true });
  const files = await hashFiles(dir, await listBlueprintFiles(dir));
  const manifest = {
    name: "nemoclaw-runtime",
    version: "0.1.0",
    min_plugin_version: "0.1.0",
    min_openclaw_version: "2026.9.0",
    min_node_version: "24.16.0",
    files,
    digest: digestOf(files),
  };
  await writeFile(path.join(dir, "blueprint.yaml"), stringify(manifest));
  return dir;
}

describe("blueprint verification", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await sealedFixture();
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("accepts an untouched blueprint", async () => {
    const r = await verifyBlueprint(dir);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it.each(["runtime/main.js", "Dockerfile", "supervisor/launcher.c"])("refuses one changed byte in %s", async (file) => {
    const full = path.join(dir, file);
    const bytes = await readFile(full);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    await writeFile(full, bytes);
    const r = await verifyBlueprint(dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ kind: "changed", path: file })]);
  });

  it("reports an unlisted extra file by name", async () => {
    await writeFile(path.join(dir, "runtime", "evil.js"), "process.exit(0)\n");
    const r = await verifyBlueprint(dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([{ kind: "unlisted", path: "runtime/evil.js" }]);
  });

  it("reports a missing file and a file swapped for a symlink", async () => {
    await unlink(path.join(dir, "Dockerfile"));
    await unlink(path.join(dir, "runtime", "main.js"));
    await symlink("/etc/hostname", path.join(dir, "runtime", "main.js"));
    const r = await verifyBlueprint(dir);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        { kind: "missing", path: "Dockerfile" },
        { kind: "not-a-file", path: "runtime/main.js" },
      ]),
    );
  });

  it("refuses a manifest whose file list was edited without its digest", async () => {
    const manifestPath = path.join(dir, "blueprint.yaml");
    const manifest = parse(await readFile(manifestPath, "utf8")) as { files: Array<{ path: string; sha256: string }> };
    await appendFile(path.join(dir, "Dockerfile"), "RUN echo tampered\n");
    const edited = manifest.files.map((f) => (f.path === "Dockerfile" ? { ...f, sha256: "0".repeat(64) } : f));
    await writeFile(manifestPath, stringify({ ...manifest, files: edited }));
    const r = await verifyBlueprint(dir);
    expect(r.problems.map((p) => p.kind)).toEqual(expect.arrayContaining(["digest", "changed"]));
  });

  it("explains a missing or malformed manifest", async () => {
    await writeFile(path.join(dir, "blueprint.yaml"), "name: x\n");
    expect((await verifyBlueprint(dir)).problems[0]).toMatchObject({ kind: "manifest", message: expect.stringMatching(/not a sealed blueprint manifest/) });
    await unlink(path.join(dir, "blueprint.yaml"));
    expect((await verifyBlueprint(dir)).problems[0]).toMatchObject({ kind: "manifest", message: expect.stringMatching(/never built or sealed/) });
  });
});

describe("the real sealed runtime (dist/blueprint)", () => {
  it("is sealed as JSON after its comment (read without a YAML parser), which YAML reads the same", async () => {
    const text = await readFile(path.join(repoRoot, "dist/blueprint/blueprint.yaml"), "utf8");
    expect(text.startsWith("# Sealed by")).toBe(true);
    const asJson = JSON.parse(text.replace(/^(?:#[^\n]*\n)+/, "")) as { digest: string; files: unknown[] };
    expect(asJson.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(parse(text)).toEqual(asJson);
  });

  it("verifies as built, and refuses a changed byte in every one of its listed files", async () => {
    const built = path.join(repoRoot, "dist/blueprint");
    expect((await verifyBlueprint(built)).problems).toEqual([]);
    const copy = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-bp-real-"));
    try {
      await cp(built, copy, { recursive: true });
      const manifest = parse(await readFile(path.join(copy, "blueprint.yaml"), "utf8")) as { files: Array<{ path: string }> };
      // The bundles and what the image is built from: everything that runs, nothing else.
      const listed = manifest.files.map((f) => f.path);
      expect(listed).toEqual(expect.arrayContaining(["Dockerfile", "runtime/main.js", "runtime/protocol.js", "supervisor/supervisor.js", "supervisor/inspect.js", "supervisor/landlock-exec.c", "supervisor/tool-backend/index.js", "supervisor/tool-backend/openclaw.plugin.json", "supervisor/tool-backend/package.json"]));
      // Besides code, only the Dockerfile and the manifests of the plugin the sandboxed gateway loads.
      expect(listed.filter((p) => !/\.(js|c)$|^Dockerfile$|^supervisor\/tool-backend\/(openclaw\.plugin|package)\.json$/.test(p))).toEqual([]);
      for (const { path: file } of manifest.files) {
        const full = path.join(copy, file);
        const original = await readFile(full);
        const changed = Buffer.from(original);
        const at = Math.floor(changed.length / 2);
        changed[at] = (changed[at] ?? 0) ^ 1;
        await writeFile(full, changed);
        const r = await verifyBlueprint(copy);
        expect(r.problems, file).toEqual([expect.objectContaining({ kind: "changed", path: file })]);
        await writeFile(full, original);
      }
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});

describe("compareVersions", () => {
  it.each([
    ["24.21.0", "24.16.0", 1],
    ["24.9.0", "24.16.0", -1],
    ["2026.9.6", "2026.9.6", 0],
    ["1.2", "1.2.0", 0],
    ["0.1.0-rc.1", "0.1.0", 0],
  ])("%s vs %s → %i", (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });
});
