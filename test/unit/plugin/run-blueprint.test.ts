import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runBlueprint } from "../../../src/blueprint/run.js";
import { digestOf, hashFiles, listBlueprintFiles } from "../../../src/blueprint/digest.js";
import { UserError } from "../../../src/errors.js";
import { repoRoot } from "../../helpers/node24.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A sealed blueprint whose runtime is `mainSource`, with the real (built) protocol module. */
async function blueprintWith(mainSource: string, minOpenclaw = "2026.9.0"): Promise<string> {
  // Inside the repository, so the runtime's own imports (zod, …) resolve from node_modules.
  await mkdir(path.join(repoRoot, ".tools"), { recursive: true });
  const dir = await mkdtemp(path.join(repoRoot, ".tools", "test-blueprint-"));
  dirs.push(dir);
  await cp(path.join(repoRoot, "dist/blueprint"), dir, { recursive: true });
  await rm(path.join(dir, "blueprint.yaml"));
  // A CommonJS scope for the stand-in main.js, whatever the copied tree declares.
  await writeFile(path.join(dir, "runtime/main.cjs"), mainSource);
  await writeFile(path.join(dir, "runtime/main.js"), 'import "./main.cjs";\n');
  const files = await hashFiles(dir, await listBlueprintFiles(dir));
  await writeFile(
    path.join(dir, "blueprint.yaml"),
    stringify({ name: "t", version: "0.1.0", min_plugin_version: "0.0.1", min_openclaw_version: minOpenclaw, min_node_version: "20.0.0", files, digest: digestOf(files) }),
  );
  return dir;
}

const say = (...messages: unknown[]) =>
  messages.map((m) => `process.stdout.write(${JSON.stringify(JSON.stringify(m) + "\n")});`).join("\n");

const anyResult = (p: typeof import("../../../blueprint/runtime/protocol.js")) => p.DaemonStopResultSchema;

describe("running the blueprint runtime", () => {
  it("streams progress and returns the validated result", async () => {
    const dir = await blueprintWith(
      say({ type: "progress", step: "build", message: "step 1/2", percent: 50 }, { type: "result", data: { wasRunning: true } }),
    );
    const progress: string[] = [];
    const result = await runBlueprint({ command: "daemon.stop" }, anyResult, { blueprintDir: dir, onProgress: (p) => progress.push(p.message) });
    expect(result).toEqual({ wasRunning: true });
    expect(progress).toEqual(["step 1/2"]);
  });

  it("turns a runtime error into a UserError with its hint and details", async () => {
    const dir = await blueprintWith(say({ type: "error", code: "x", message: "Docker is down", hint: "start it", details: ["a"] }) + "\nprocess.exitCode = 1;");
    const err = await runBlueprint({ command: "daemon.stop" }, anyResult, { blueprintDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ message: "Docker is down", hint: "start it", details: ["a"] });
  });

  it("rejects output that is not the protocol, showing what came instead", async () => {
    const dir = await blueprintWith(`console.log("hello there"); ${say({ type: "result", data: { wasRunning: false } })}`);
    const err = await runBlueprint({ command: "daemon.stop" }, anyResult, { blueprintDir: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: expect.stringMatching(/without a valid answer/), details: expect.arrayContaining(["not JSON: hello there"]) });
  });

  it("rejects a result of the wrong shape", async () => {
    const dir = await blueprintWith(say({ type: "result", data: { wasRunning: 1 } }));
    const err = await runBlueprint({ command: "daemon.stop" }, anyResult, { blueprintDir: dir }).catch((e: unknown) => e);
    expect((err as UserError).details[0]).toMatch(/result does not match/);
  });

  it("reports a crash with the runtime's stderr tail", async () => {
    const dir = await blueprintWith(`console.error("boom: something broke"); process.exit(3);`);
    const err = await runBlueprint({ command: "daemon.stop" }, anyResult, { blueprintDir: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: expect.stringMatching(/exit code 3/), details: ["boom: something broke"] });
  });

  it("never runs a blueprint that fails verification", async () => {
    const marker = path.join(os.tmpdir(), `nemoclaw-ran-${process.pid}-${Date.now()}`);
    const dir = await blueprintWith(`require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");`);
    await appendFile(path.join(dir, "runtime/main.js"), "\n// tampered\n");
    const err = await runBlueprint({ command: "daemon.stop" }, anyResult, { blueprintDir: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: expect.stringMatching(/failed verification; refusing to run it/), details: [expect.stringMatching(/^changed: runtime\/main\.js \(expected sha256 [0-9a-f]{12}…, found [0-9a-f]{12}…\)$/)] });
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses a runtime that needs a newer OpenClaw than the one running, before running it", async () => {
    const marker = path.join(os.tmpdir(), `nemoclaw-ran-${process.pid}-${Date.now()}-oc`);
    const dir = await blueprintWith(`require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");`, "9999.1.0");
    const err = await runBlueprint({ command: "daemon.stop" }, anyResult, { blueprintDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ message: expect.stringMatching(/needs OpenClaw ≥ 9999\.1\.0; this is OpenClaw 2026\.\d+\.\d+/) });
    expect(existsSync(marker)).toBe(false);
  });
});
