// `sandbox create` as the CLI runs it: the built runtime (dist/blueprint/runtime/main.js) in a
// process of its own per verb, against the real engine. Its answer is its last word: nothing is
// left open after it (a Docker response left unread once held every create's exit until the
// runtime's 2 s guard gave up, saying "exiting with handles still open"), and
// a later create in a new process trusts the staged volumes an earlier one checked (the state
// dir's memo) instead of checking them again through a filler container.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { stagedVolumesFile } from "../../blueprint/state/paths.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { OPENCLAW_DIR } from "../helpers/docker-sandbox.js";
import { runRuntime, type RuntimeRun } from "../helpers/runtime-process.js";

let stateDir: string;
const names: string[] = [];

const create = (name: string): Promise<RuntimeRun> =>
  runRuntime({ command: "sandbox.create", stateDir, name, presets: [], diskBytes: 0, openclawDir: OPENCLAW_DIR, baseImage: BASE_IMAGE });

beforeAll(async () => {
  await ensureSandboxImage(dockerClient());
  stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-rtc-"));
}, 600_000);
afterAll(async () => {
  for (const name of names) await runRuntime({ command: "sandbox.destroy", stateDir, name, yes: true }).catch(() => undefined);
  await stopDaemon(stateDir).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
}, 120_000);

describe("sandbox create in the runtime's own process", () => {
  it("exits right after its answer, the first time (staged volumes checked) and the next (trusted from the memo)", async () => {
    const first = uniqueName("rtc");
    names.push(first);
    const a = await create(first);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(a.result?.name).toBe(first);
    expect(a.stderr).not.toContain("handles still open");
    const memo = JSON.parse(await readFile(stagedVolumesFile(stateDir), "utf8")) as { complete: Record<string, string> };
    expect(Object.keys(memo.complete).some((v) => v.startsWith("nemoclaw-runtime-"))).toBe(true);
    expect(Object.keys(memo.complete).some((v) => v.startsWith("nemoclaw-openclaw-"))).toBe(true);

    const second = uniqueName("rtc");
    names.push(second);
    const b = await create(second);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(b.stderr).not.toContain("handles still open");
  }, 300_000);
});
