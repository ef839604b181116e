// eject's host-config restore: the three-way merge on its own, then restoreHostConfig on real
// temp files (snapshot bytes back exactly; the operator's later changes merged and named; a
// backup of what was there; comments, modes, a config removed since).
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assumedOurs, diff, formatPath, mergeHostConfig, type JsonObject } from "../../../src/eject/config-merge.js";
import { restoreHostConfig } from "../../../src/eject/host-config.js";
import { onboardedCopyFile, snapshotFile } from "../../../src/onboard/operator-config.js";

const launch = (sandbox: string, enabled = true) => ({ plugins: { entries: { nemoclaw: { config: { launch: { sandbox, enabled } } } } } });

describe("mergeHostConfig", () => {
  const base: JsonObject = { gateway: { port: 18789 }, plugins: { entries: { other: { enabled: true } } }, meta: { lastTouchedVersion: "2026.9.1" } };
  const ours: JsonObject = {
    gateway: { port: 18789 },
    plugins: { entries: { other: { enabled: true }, nemoclaw: { config: { launch: { sandbox: "openclaw", enabled: true } } } } },
    meta: { lastTouchedVersion: "2026.9.6" },
  };

  it("nothing but our launch switch and OpenClaw's write stamp changed: base as it was, nothing merged", () => {
    const r = mergeHostConfig(base, ours, ours);
    expect(r.merged).toEqual([]);
    expect(r.config).toEqual(base);
  });

  it("the operator's later change is carried over and named; our keys are not", () => {
    const theirs = structuredClone(ours) as JsonObject;
    (theirs.gateway as JsonObject).port = 19000;
    (theirs as { agents?: unknown }).agents = { defaults: { model: { primary: "openai/gpt-5" } } };
    const r = mergeHostConfig(base, ours, theirs);
    expect(r.merged.map((c) => formatPath(c.path)).sort()).toEqual(["agents.defaults.model.primary", "gateway.port"]);
    expect(r.config).toEqual({ ...base, gateway: { port: 19000 }, agents: { defaults: { model: { primary: "openai/gpt-5" } } } });
    expect(JSON.stringify(r.config)).not.toContain("launch");
  });

  it("a key the operator deleted stays deleted; one they changed back is no change", () => {
    const theirs = structuredClone(ours) as JsonObject;
    delete (theirs.plugins as { entries: JsonObject }).entries.other;
    const r = mergeHostConfig(base, ours, theirs);
    expect(r.merged.map((c) => formatPath(c.path))).toEqual(["plugins.entries.other"]);
    expect(r.config).toEqual({ gateway: { port: 18789 }, plugins: { entries: {} }, meta: { lastTouchedVersion: "2026.9.1" } });

    const back = structuredClone(ours) as JsonObject;
    (back.gateway as JsonObject).port = 18789;
    expect(mergeHostConfig(base, ours, back).merged).toEqual([]);
  });

  it("their own settings under nemoclaw's plugin entry are theirs (only launch is ours)", () => {
    const theirs = structuredClone(ours) as JsonObject;
    ((theirs.plugins as { entries: { nemoclaw: { config: JsonObject } } }).entries.nemoclaw.config).dockerHost = "unix:///run/docker.sock";
    const r = mergeHostConfig(base, ours, theirs);
    expect(r.merged.map((c) => formatPath(c.path))).toEqual(["plugins.entries.nemoclaw.config.dockerHost"]);
    expect((r.config.plugins as { entries: JsonObject }).entries.nemoclaw).toEqual({ config: { dockerHost: "unix:///run/docker.sock" } });
  });

  it("a launch switch the operator flipped (launch disable) is still ours: gone", () => {
    const theirs = { ...structuredClone(ours), ...launch("openclaw", false), plugins: { entries: { other: { enabled: true }, ...launch("openclaw", false).plugins.entries } } };
    expect(mergeHostConfig(base, ours, theirs as JsonObject)).toEqual({ config: base, merged: [] });
  });

  it("a launch setting that was there before onboarding comes back", () => {
    const before = { ...launch("old", false) } as JsonObject;
    const after = launch("openclaw") as JsonObject;
    expect(mergeHostConfig(before, after, after).config).toEqual(before);
  });

  it("arrays are values: a changed list is taken whole", () => {
    const b: JsonObject = { tools: { deny: ["a", "b"] } };
    const o: JsonObject = { ...b, ...launch("x") };
    const t: JsonObject = { tools: { deny: ["a", "c"] }, ...launch("x") };
    expect(mergeHostConfig(b, o, t).config).toEqual({ tools: { deny: ["a", "c"] } });
    expect(diff(b, { tools: { deny: ["a", "c"] } })).toEqual([{ path: ["tools", "deny"], kind: "set", value: ["a", "c"] }]);
  });

  it("without onboarding's copy, ours is assumed to be base plus the owned and stamped keys", () => {
    const theirs = { ...structuredClone(ours), gateway: { port: 1 } } as JsonObject;
    const r = mergeHostConfig(base, assumedOurs(base, theirs), theirs);
    expect(r.merged.map((c) => formatPath(c.path))).toEqual(["gateway.port"]);
    expect(r.config).toEqual({ ...base, gateway: { port: 1 } });
  });

  it("names odd keys readably", () => {
    expect(formatPath(["channels", "my.bot", "token"])).toBe('channels."my.bot".token');
  });
});

describe("restoreHostConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "eject-unit-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // JSON5 with a comment and odd spacing: only a byte copy keeps it.
  const original = '// my config\n{ gateway: { port: 18789 },  "plugins": {"entries": {}} }\n';
  const onboardedText = `${JSON.stringify({ gateway: { port: 18789 }, plugins: { entries: { nemoclaw: { config: { launch: { sandbox: "openclaw", enabled: true } } } } }, meta: { lastTouchedVersion: "2026.9.6" } }, null, 2)}\n`;

  async function setup(name: string): Promise<{ file: string; stateDir: string }> {
    const home = path.join(dir, name);
    const stateDir = path.join(home, "state");
    await mkdir(path.join(stateDir, "onboard"), { recursive: true });
    const file = path.join(home, "openclaw.json");
    await writeFile(snapshotFile(stateDir), original);
    await writeFile(onboardedCopyFile(stateDir), onboardedText);
    await writeFile(file, onboardedText);
    await chmod(file, 0o640);
    return { file, stateDir };
  }

  it("writes the snapshot's bytes back when nothing else changed, keeps a backup and the file's mode", async () => {
    const { file, stateDir } = await setup("plain");
    const r = await restoreHostConfig(stateDir, file);
    expect(r.action).toBe("restored");
    expect(await readFile(file, "utf8")).toBe(original);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(r.backup).not.toBeNull();
    expect(await readFile(r.backup ?? "", "utf8")).toBe(onboardedText);
    expect((await stat(r.backup ?? "")).mode & 0o777).toBe(0o600);
    // The snapshot is used up: the next onboarding takes a fresh one.
    expect((await readdir(path.join(stateDir, "onboard"))).some((f) => f === "host-openclaw.json.snapshot")).toBe(false);
    // A second eject has nothing left to do.
    expect((await restoreHostConfig(stateDir, file)).action).toBe("unchanged");
  });

  it("merges the operator's later edit and names it", async () => {
    const { file, stateDir } = await setup("edited");
    const edited = JSON.parse(onboardedText) as { gateway: { port: number } };
    edited.gateway.port = 19999;
    await writeFile(file, JSON.stringify(edited));
    const r = await restoreHostConfig(stateDir, file);
    expect(r.action).toBe("merged");
    expect(r.merged).toEqual(["gateway.port"]);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ gateway: { port: 19999 }, plugins: { entries: {} } });
  });

  it("a config that does not parse is refused and left alone", async () => {
    const { file, stateDir } = await setup("broken");
    await writeFile(file, "{ nope");
    await expect(restoreHostConfig(stateDir, file)).rejects.toThrow(/does not parse/);
    expect(await readFile(file, "utf8")).toBe("{ nope");
  });

  it("a config removed since onboarding stays removed", async () => {
    const { file, stateDir } = await setup("removed");
    await rm(file);
    expect((await restoreHostConfig(stateDir, file)).action).toBe("no-file");
    await expect(stat(file)).rejects.toThrow();
  });

  it("without a snapshot only nemoclaw's launch switch is taken out", async () => {
    const { file, stateDir } = await setup("nosnap");
    await rm(snapshotFile(stateDir));
    const r = await restoreHostConfig(stateDir, file);
    expect(r.action).toBe("removed");
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ gateway: { port: 18789 }, meta: { lastTouchedVersion: "2026.9.6" } });
  });
});
