// eject, uninstall and gc through the real `openclaw` CLI, one OpenClaw home. Onboarding's part
// is done the way onboard does it: a gateway sandbox, the snapshot of openclaw.json, launch
// enabled, the copy as onboarding left it. Then the operator edits a key; eject stops the
// gateway sandbox, exports /sandbox and restores the config with their edit merged;
// uninstall without --yes removes nothing; gc removes an unused staged volume; uninstall --yes
// removes everything of this state dir while a sandbox of a second state dir on the same engine
// keeps running, with the image and staged volumes it uses.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import JSON5 from "json5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonHealth } from "../../blueprint/runtime/daemon-client.js";
import { sandboxContainerName, sandboxVolumeName } from "../../blueprint/sandbox/container-spec.js";
import { SandboxDriver } from "../../blueprint/sandbox/driver.js";
import { STAGED_LABEL } from "../../blueprint/sandbox/staged-volume.js";
import { stateRunDir } from "../../blueprint/state/paths.js";
import { operatorConfigFile, recordOnboardedConfig, snapshotFile, snapshotOperatorConfig } from "../../src/onboard/operator-config.js";
import { dockerClient } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";

const exists = (p: string) => stat(p).then(() => true, () => false);

describe("eject, uninstall, gc", () => {
  const docker = dockerClient();
  const name = uniqueName("eject");
  let home: PluginHome;
  let other: SandboxHarness;
  let otherName: string;
  let configFile: string;
  let snapshotText: string;
  let exportDir: string;
  const fakeStaged = `nemoclaw-runtime-0000${uniqueName("gc").replace(/-/g, "")}`;

  beforeAll(async () => {
    const t0 = Date.now();
    const lap = (what: string) => console.log(`[eject-test] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    home = await createPluginHome();
    lap("plugin home");
    configFile = operatorConfigFile(home.env as NodeJS.ProcessEnv);
    exportDir = path.join(await mkdtemp(path.join(os.tmpdir(), "eject-export-")), "sandbox-data");
    const created = await home.run(["nemoclaw", "sandbox", "create", name, "--gateway", "--json"], { timeoutMs: 300_000 });
    if (created.exitCode !== 0) throw new Error(created.all);
    lap("sandbox create");
    // Onboarding's host-config step: the snapshot first, then the launch switch, then the copy.
    await snapshotOperatorConfig(home.stateDir, configFile);
    const enabled = await home.run(["nemoclaw", "launch", "enable", name]);
    if (enabled.exitCode !== 0) throw new Error(enabled.all);
    await recordOnboardedConfig(home.stateDir, configFile);
    lap("launch enable");
    snapshotText = await readFile(snapshotFile(home.stateDir), "utf8");
    // Something of the user's in /sandbox, written as the workload through the driver's exec.
    const driver = new SandboxDriver({ docker, stateDir: home.stateDir });
    const code = await driver.exec(name, ["sh", "-c", "mkdir -p /sandbox/workspace && echo 'my notes' > /sandbox/workspace/notes.md && ln -s /etc/passwd /sandbox/workspace/link"], {
      stdout: new PassThrough().resume(),
      stderr: new PassThrough().resume(),
    });
    if (code !== 0) throw new Error(`writing into /sandbox failed: ${code}`);
    // A second state dir on the same engine, its sandbox on the same image and staged volumes.
    other = await createSandboxHarness();
    otherName = (await other.create("ejectother", { limits: { diskBytes: 0 } })).name;
    lap("second state dir's sandbox");
  }, 900_000);

  afterAll(async () => {
    await other?.dispose();
    await docker.getVolume(fakeStaged).remove().catch(() => undefined);
    await home?.teardown([name]);
    await rm(path.dirname(exportDir), { recursive: true, force: true });
  });

  it("eject: gateway stopped, /sandbox exported, host config = snapshot + the operator's edit, named", async () => {
    const container = docker.getContainer(sandboxContainerName(name));
    expect((await container.inspect()).State.Running).toBe(true);
    // The operator edits their config after onboarding.
    const current = JSON5.parse(await readFile(configFile, "utf8")) as { gateway?: Record<string, unknown> };
    current.gateway = { ...current.gateway, port: 19123 };
    await writeFile(configFile, JSON.stringify(current, null, 2));

    const r = await home.run(["nemoclaw", "eject", name, "--export", exportDir], { timeoutMs: 300_000 });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/Host config: .*your later changes merged in: gateway\.port/);
    expect(r.stdout).toMatch(/Backup: .*before-eject-/);
    expect(r.stdout).toMatch(/Not exported: .*workspace\/link \(symlink to \/etc\/passwd\)/);
    // The gateway ran, so its compile cache exists; it is left out, and said so.
    expect(r.stdout).toMatch(/Not exported: .*\.cache\/openclaw-compile-cache \(OpenClaw's compile cache, rebuilt at its next start\)/);

    const expected = { ...(JSON5.parse(snapshotText) as Record<string, unknown>) };
    expected.gateway = { ...(expected.gateway as object | undefined), port: 19123 };
    expect(JSON.parse(await readFile(configFile, "utf8"))).toEqual(expected);
    expect(await readFile(configFile, "utf8")).not.toContain("launch");
    expect(await readFile(path.join(exportDir, "workspace", "notes.md"), "utf8")).toBe("my notes\n");
    expect(await exists(path.join(exportDir, ".cache", "openclaw-compile-cache"))).toBe(false);
    expect((await stat(path.join(exportDir, "workspace", "notes.md"))).uid).toBe(process.getuid?.());
    // Stopped, not removed: eject is undone by onboarding again.
    expect((await container.inspect()).State.Running).toBe(false);
  });

  it("uninstall without --yes shows what goes and removes nothing", async () => {
    const configBefore = await readFile(configFile, "utf8");
    const r = await home.run(["nemoclaw", "uninstall", "--json"]);
    expect(r.exitCode, r.all).toBe(0);
    const plan = JSON.parse(r.stdout) as { applied: boolean; remove: Array<{ kind: string; name: string }>; next: string };
    expect(plan.applied).toBe(false);
    expect(plan.next).toBe("openclaw nemoclaw uninstall --yes");
    const names = plan.remove.map((i) => `${i.kind} ${i.name}`);
    expect(names).toEqual(expect.arrayContaining([`container ${sandboxContainerName(name)}`, `volume ${sandboxVolumeName(name)}`, `state ${home.stateDir}`]));
    expect(names.join("\n")).not.toContain(otherName);
    expect(await exists(home.stateDir)).toBe(true);
    expect(await docker.getContainer(sandboxContainerName(name)).inspect().then(() => true)).toBe(true);
    expect(await docker.getVolume(sandboxVolumeName(name)).inspect().then(() => true)).toBe(true);
    expect(await readFile(configFile, "utf8")).toBe(configBefore);
  });

  it("gc removes a staged volume nothing uses, and nothing a sandbox uses", async () => {
    await docker.createVolume({ Name: fakeStaged, Labels: { [STAGED_LABEL]: "supervisor" } });
    const r = await home.run(["nemoclaw", "gc", "--json"]);
    expect(r.exitCode, r.all).toBe(0);
    const result = JSON.parse(r.stdout) as { removed: Array<{ kind: string; name: string }> };
    expect(result.removed).toContainEqual(expect.objectContaining({ kind: "staged-volume", name: fakeStaged }));
    expect(await docker.getVolume(fakeStaged).inspect().then(() => true, () => false)).toBe(false);
    // This state dir's (stopped) sandbox and the other one are untouched.
    expect(await docker.getVolume(sandboxVolumeName(name)).inspect().then(() => true)).toBe(true);
    expect((await docker.getContainer(sandboxContainerName(otherName)).inspect()).State.Running).toBe(true);
  });

  it("uninstall --yes removes everything of this state dir; the other state dir's sandbox keeps running", async () => {
    const otherRecord = await other.driver.registry.get(otherName);
    const r = await home.run(["nemoclaw", "uninstall", "--yes", "--json"], { timeoutMs: 300_000 });
    expect(r.exitCode, r.all).toBe(0);
    const result = JSON.parse(r.stdout) as { ok: boolean; failed: unknown[]; keep: Array<{ kind: string; name: string }>; hostConfig: { action: string } };
    expect(result.failed).toEqual([]);
    // eject already restored it.
    expect(result.hostConfig.action).toBe("unchanged");

    await expect(docker.getContainer(sandboxContainerName(name)).inspect()).rejects.toThrow();
    await expect(docker.getVolume(sandboxVolumeName(name)).inspect()).rejects.toThrow();
    expect(await exists(home.stateDir)).toBe(false);
    expect(await exists(stateRunDir(home.stateDir))).toBe(false);
    expect(await daemonHealth(home.stateDir).catch(() => undefined)).toBeUndefined();

    const otherContainer = await docker.getContainer(sandboxContainerName(otherName)).inspect();
    expect(otherContainer.State.Running).toBe(true);
    expect(await docker.getVolume(sandboxVolumeName(otherName)).inspect().then(() => true)).toBe(true);
    expect(await docker.getImage(otherRecord.image).inspect().then(() => true)).toBe(true);
    for (const m of otherContainer.Mounts) if (m.Type === "volume" && m.Name) expect(await docker.getVolume(m.Name).inspect().then(() => true)).toBe(true);
    expect(result.keep.map((i) => i.name)).toContain(otherRecord.image);
    const probe = await other.exec(otherName, ["true"]);
    expect(probe.exitCode).toBe(0);
  });
});
