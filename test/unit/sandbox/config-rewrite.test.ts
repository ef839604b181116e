// The one in-sandbox rewrite of a gateway sandbox's OpenClaw config, through both of its callers
// (the carried-over settings, the router's models): here the program runs on the host's node on
// a temp file, as it runs inside (the same argv, OpenClaw's own json5, stdin and exit code).
import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeCarriedConfig } from "../../../blueprint/sandbox/carry-over-config.js";
import { configRewriteArgv } from "../../../blueprint/sandbox/config-rewrite.js";
import { execWithInput, type ExecIo } from "../../../blueprint/sandbox/container-io.js";
import { gatewayConfig } from "../../../blueprint/sandbox/gateway-inside.js";
import { rewriteGatewayModels } from "../../../blueprint/sandbox/gateway-models.js";
import { repoRoot } from "../../helpers/node24.js";

const OPENCLAW_ENTRY = path.join(repoRoot, "node_modules/openclaw/openclaw.mjs");

/** What the driver's exec does, minus the container: the argv run with the io's streams. */
function hostExec(command: readonly string[], io: ExecIo): Promise<number> {
  expect(command[0]).toBe("/usr/local/bin/node");
  const child = spawn(process.execPath, command.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  child.stdout.pipe(io.stdout);
  child.stderr.pipe(io.stderr);
  io.stdin?.pipe(child.stdin);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

describe("the in-sandbox config rewrite", () => {
  let dir: string;
  let file: string;
  const target = () => ({ name: "box", openclawEntry: OPENCLAW_ENTRY, configPath: file });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-rewrite-"));
    file = path.join(dir, "openclaw.json");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes the carried parts into a JSON5 config atomically (0600, no temp file left), then finds nothing to change", async () => {
    await writeFile(file, gatewayConfig("cd".repeat(32)), { mode: 0o600 });
    const parts = { agents: { entries: { helper: { workspace: "/sandbox/workspace-helper" } } }, channels: { telegram: { enabled: true } }, providers: {} };
    expect(await writeCarriedConfig(hostExec, target(), parts)).toBe(true);
    const after = JSON.parse(await readFile(file, "utf8")) as Record<string, any>;
    expect(after.channels).toEqual({ telegram: { enabled: true } });
    expect(after.agents.entries.helper.workspace).toBe("/sandbox/workspace-helper");
    expect(after.gateway.auth.token).toBe("cd".repeat(32));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["openclaw.json"]);
    const written = await stat(file);
    expect(await writeCarriedConfig(hostExec, target(), parts)).toBe(false);
    expect((await stat(file)).ino).toBe(written.ino);
  });

  it("sets the router's models through the same program", async () => {
    await writeFile(file, gatewayConfig("cd".repeat(32)), { mode: 0o600 });
    const models = { providers: { "nemoclaw-openai": { baseUrl: "http://inference.local/v1" } }, primary: "nemoclaw-openai/routed" };
    expect(await rewriteGatewayModels(hostExec, target(), models)).toBe(true);
    const after = JSON.parse(await readFile(file, "utf8")) as Record<string, any>;
    expect(after.agents.defaults.model.primary).toBe("nemoclaw-openai/routed");
    expect(await rewriteGatewayModels(hostExec, target(), models)).toBe(false);
  });

  it("a merge that only reorders keys is no change: nothing written", async () => {
    await writeFile(file, '{ "b": 1, "a": { "y": 2, "x": 3 } }\n', { mode: 0o600 });
    const before = await stat(file);
    const reorder = (config: Record<string, unknown>) => Object.fromEntries(Object.entries(config).reverse());
    const r = await execWithInput(hostExec, configRewriteArgv(reorder, OPENCLAW_ENTRY, file), "{}");
    expect(r, r.err).toMatchObject({ code: 0, out: "unchanged" });
    expect((await stat(file)).ino).toBe(before.ino);
  });

  it("fails with the caller's error, exit code and stderr when the config does not exist yet", async () => {
    await expect(writeCarriedConfig(hostExec, target(), { agents: {}, providers: {} })).rejects.toMatchObject({
      code: "carry-over-config",
      message: expect.stringMatching(/inside box \(exit 3\): .*no config yet$/),
    });
    await expect(rewriteGatewayModels(hostExec, target(), { providers: {}, primary: "x/y" })).rejects.toMatchObject({
      code: "gateway-config",
      message: expect.stringMatching(/inside box \(exit 3\): .*no config yet$/),
    });
  });
});
