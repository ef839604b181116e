import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readIntent, recordIntent } from "../../../blueprint/sandbox/intent.js";
import { sandboxIntentFile } from "../../../blueprint/state/paths.js";

describe("sandbox intent (what a bare start brings back)", () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-intent-"));
  });
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it("no file: wanted running, no relay (a sandbox just created is up)", async () => {
    expect(await readIntent(stateDir, "a")).toMatchObject({ wanted: "running", relayPort: null });
  });

  it("stop then start keeps the relay's port; a new port replaces it", async () => {
    await recordIntent(stateDir, "a", { wanted: "running", relayPort: 18790 });
    await recordIntent(stateDir, "a", { wanted: "stopped" });
    expect(await readIntent(stateDir, "a")).toMatchObject({ wanted: "stopped", relayPort: 18790 });
    await recordIntent(stateDir, "a", { wanted: "running", relayPort: 18791 });
    expect(await readIntent(stateDir, "a")).toMatchObject({ wanted: "running", relayPort: 18791 });
    expect(JSON.parse(await readFile(sandboxIntentFile(stateDir, "a"), "utf8"))).toMatchObject({ version: 1, wanted: "running", relayPort: 18791 });
  });

  it("a corrupted file is an error that says what to do, and is moved aside; recording again works", async () => {
    await mkdir(path.dirname(sandboxIntentFile(stateDir, "a")), { recursive: true });
    await writeFile(sandboxIntentFile(stateDir, "a"), '{"wanted": "sometimes"}');
    await expect(readIntent(stateDir, "a")).rejects.toThrow(/was corrupted .* moved to/);
    await recordIntent(stateDir, "a", { wanted: "stopped" });
    expect(await readIntent(stateDir, "a")).toMatchObject({ wanted: "stopped", relayPort: null });
  });
});
