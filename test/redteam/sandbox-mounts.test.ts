// What the workload can read of the host through its mounts, and whether it can fill the host's
// disk. Run from inside real sandboxes made by the driver, as the workload (through the
// launcher: uid 1000, Landlock, seccomp), the way `openclaw nemoclaw <name> exec` runs commands.
//
// - OpenClaw is staged with its production dependencies only: none of this checkout's
//   devDependencies, none of the test runner's cache (which holds the transformed sources of
//   these tests), nothing else that sits in the host's node_modules; and OpenClaw still runs.
// - /proc/self/mountinfo names no host path of the state dir, the checkout or $HOME.
// - /sandbox has a quota: filling it fails with ENOSPC inside, the host's disk loses at most the
//   quota, and another sandbox can still write.
import { randomBytes } from "node:crypto";
import { readFile, realpath, rm, statfs, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { openclawClosure } from "../../blueprint/sandbox/openclaw-stage.js";
import { createSandboxHarness, OPENCLAW_DIR, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { repoRoot } from "../helpers/node24.js";

const MiB = 1024 ** 2;
let h: SandboxHarness;

beforeAll(async () => {
  h = await createSandboxHarness();
}, 900_000);
afterAll(async () => h?.dispose());

describe("mounts: only OpenClaw's production files, no host paths", () => {
  let name: string;
  let entry: string;
  const canary = `.nemoclaw-canary-${randomBytes(6).toString("hex")}`;
  beforeAll(async () => {
    // A file beside OpenClaw in the host's node_modules, as any dev dependency or cache is.
    await writeFile(path.join(repoRoot, "node_modules", canary), "host-only\n");
    const record = await h.create("mounts");
    name = record.name;
    entry = record.openclaw!.entry;
  }, 300_000);
  afterAll(async () => rm(path.join(repoRoot, "node_modules", canary), { force: true }));

  it("OpenClaw runs from inside (`openclaw --version`)", async () => {
    const r = await h.exec(name, ["node", entry, "--version"]);
    const pkg = JSON.parse(await readFile(path.join(OPENCLAW_DIR, "package.json"), "utf8")) as { version: string };
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(pkg.version);
  }, 120_000);

  it("sees no devDependency of the checkout, no test-runner cache and nothing else from the host's node_modules", async () => {
    const pkg = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    const closure = await openclawClosure(OPENCLAW_DIR);
    // OpenClaw itself is a devDependency here (the tests run it); the others must be absent
    // unless OpenClaw needs them at run time (at the top level, where the checkout has them).
    const absent = Object.keys(pkg.devDependencies).filter((dep) => dep !== "openclaw" && !closure.packages.includes(dep));
    expect(absent).toEqual(expect.arrayContaining(["vitest", "typescript", "memfs"]));
    const targets = [...absent, ".vite", ".vite-temp", ".bin", canary].map((p) => `/opt/openclaw/node_modules/${p}`);
    const r = await h.exec(name, ["sh", "-c", 'for p in "$@"; do if [ -e "$p" ]; then echo "present $p"; else echo "absent $p"; fi; done', "sh", ...targets]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(targets.map((t) => `absent ${t}`));
    // And nowhere else readable: no test source, no vitest, no canary on any mount the workload has.
    const search = await h.exec(name, [
      "sh",
      "-c",
      `find /opt /run /sandbox /tmp \\( -name '*.test.ts' -o -name 'vitest' -o -name '.vite' -o -name '${canary}' \\) -print 2>/dev/null; echo done`,
    ]);
    expect(search.stdout).toBe("done\n");
  }, 120_000);

  it("/proc/self/mountinfo names none of the host's state dir, checkout or home paths", async () => {
    const r = await h.exec(name, ["cat", "/proc/self/mountinfo"]);
    expect(r.exitCode).toBe(0);
    const mountinfo = r.stdout;
    // Control: it is the real table (the sandbox's own mounts are there).
    expect(mountinfo).toMatch(/ \/opt\/openclaw\/node_modules ro,/);
    expect(mountinfo).toMatch(/ \/run\/nemoclaw ro,/);
    const home = os.homedir();
    for (const hostPath of [h.stateDir, await realpath(h.stateDir), path.basename(h.stateDir), repoRoot, await realpath(repoRoot), `${home}/`]) {
      expect(mountinfo, `mountinfo mentions ${hostPath}`).not.toContain(hostPath);
    }
    // What the staged mounts show instead: Docker's volume folders.
    const openclawLine = mountinfo.split("\n").find((l) => l.includes(" /opt/openclaw/node_modules "));
    expect(openclawLine?.split(" ")[3]).toMatch(/^\/var\/lib\/docker\/volumes\/nemoclaw-openclaw-[^/]+\/_data$/);
  });
});

describe("/sandbox quota", () => {
  const quota = 64 * MiB;
  let full: string;
  let other: string;
  beforeAll(async () => {
    [full, other] = await Promise.all([
      h.create("quota", { limits: { diskBytes: quota } }).then((r) => r.name),
      h.create("quota-other", { limits: { diskBytes: quota } }).then((r) => r.name),
    ]);
  }, 300_000);

  it("status states the quota, and /sandbox inside is that size", async () => {
    expect((await h.driver.status(full)).limits.diskBytes).toBe(quota);
    const r = await h.exec(full, ["df", "-B1", "--output=size,fstype", "/sandbox"]);
    const [size] = r.stdout.trim().split("\n")[1]!.trim().split(/\s+/);
    expect(Number(size)).toBeGreaterThan(quota * 0.8);
    expect(Number(size)).toBeLessThanOrEqual(quota);
  });

  it("filling it fails with ENOSPC inside; the host loses at most the quota; another sandbox still writes", async () => {
    const before = await statfs("/var/lib/docker");
    // 1 GiB asked for: without a quota this would succeed (and take 1 GiB of the host's disk).
    const r = await h.exec(full, ["dd", "if=/dev/zero", "of=/sandbox/fill", "bs=1M", "count=1024"]);
    const after = await statfs("/var/lib/docker");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("No space left on device");
    const written = Number(/^(\d+) bytes/m.exec(r.stderr)?.[1]);
    expect(written).toBeGreaterThan(quota * 0.5);
    expect(written).toBeLessThanOrEqual(quota);
    // Other helpers share this disk; a quarter of the 1 GiB asked for is far above the quota
    // and far below what an unlimited /sandbox would have taken.
    const lostBytes = (before.bavail - after.bavail) * before.bsize;
    expect(lostBytes).toBeLessThan(256 * MiB);

    // The full sandbox still has its /tmp (a tmpfs of its own); the other sandbox its /sandbox.
    expect((await h.exec(full, ["sh", "-c", "echo ok > /tmp/after && cat /tmp/after"])).stdout).toBe("ok\n");
    const otherWrite = await h.exec(other, ["dd", "if=/dev/zero", "of=/sandbox/ten", "bs=1M", "count=10"]);
    expect(otherWrite.exitCode).toBe(0);
    // And freeing space inside makes room again.
    expect((await h.exec(full, ["sh", "-c", "rm /sandbox/fill && echo kept > /sandbox/marker && cat /sandbox/marker"])).stdout).toBe("kept\n");
  }, 180_000);

  it("the quota and the data hold across stop/start and a container recreated from state", async () => {
    await h.driver.stop(full);
    expect(await h.driver.start(full)).toEqual({ recreated: false, alreadyRunning: false });
    expect((await h.exec(full, ["cat", "/sandbox/marker"])).stdout).toBe("kept\n");
    await h.driver.docker.getContainer(sandboxContainerName(full)).remove({ force: true });
    expect(await h.driver.start(full)).toEqual({ recreated: true, alreadyRunning: false });
    expect((await h.exec(full, ["cat", "/sandbox/marker"])).stdout).toBe("kept\n");
    const r = await h.exec(full, ["dd", "if=/dev/zero", "of=/sandbox/fill", "bs=1M", "count=1024"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("No space left on device");
  }, 180_000);
});
