// The model part of a gateway sandbox's OpenClaw config: what the seed carries, and the rewrite
// the runtime runs inside (here run by the host's node on a temp file, as it is inside: the same
// program, OpenClaw's own json5, the same argv).
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import JSON5 from "json5";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openclawProviderEntries, ROUTER_API_KEY } from "../../../blueprint/inference/openclaw-config.js";
import { RouteSchema } from "../../../blueprint/inference/route.js";
import { gatewayConfig } from "../../../blueprint/sandbox/gateway-inside.js";
import { mergeGatewayModels, rewriteModelsArgv } from "../../../blueprint/sandbox/gateway-models.js";
import { repoRoot } from "../../helpers/node24.js";

const route = (provider: string, model: string) => RouteSchema.parse({ version: 1, provider, model, updatedAt: "2026-01-01T00:00:00Z" });
const OPENCLAW_ENTRY = path.join(repoRoot, "node_modules/openclaw/openclaw.mjs");

describe("the seeded gateway config", () => {
  it("carries one provider entry per shape at inference.local, the placeholder key, and the route's primary", () => {
    const config = JSON5.parse(gatewayConfig("ab".repeat(32), openclawProviderEntries(route("openai", "gpt-x")))) as Record<string, any>;
    expect(Object.keys(config.models.providers).sort()).toEqual(["nemoclaw-anthropic", "nemoclaw-openai"]);
    expect(config.models.providers["nemoclaw-openai"]).toMatchObject({ baseUrl: "http://inference.local/v1", apiKey: ROUTER_API_KEY, api: "openai-completions" });
    expect(config.models.providers["nemoclaw-anthropic"]).toMatchObject({ baseUrl: "http://inference.local", apiKey: ROUTER_API_KEY, api: "anthropic-messages" });
    expect(config.models.mode).toBe("merge");
    expect(config.agents.defaults.model.primary).toBe("nemoclaw-openai/routed");
    // The rest of the gateway's config is untouched by the models.
    expect(config.agents.defaults.sandbox.backend).toBe("nemoclaw");
    expect(config.gateway.auth.token).toBe("ab".repeat(32));
  });

  it("names no model when the sandbox has no route yet", () => {
    const config = JSON5.parse(gatewayConfig("ab".repeat(32))) as Record<string, any>;
    expect(config.models.providers).toBeUndefined();
    expect(config.agents.defaults.model).toBeUndefined();
  });

  it("turns off OpenClaw's own start-up requests (update check, telemetry, hosted model catalog)", () => {
    const config = JSON5.parse(gatewayConfig("ab".repeat(32), openclawProviderEntries(route("openai", "gpt-x")))) as Record<string, any>;
    expect(config.update).toEqual({ checkOnStart: false });
    expect(config.telemetry).toEqual({ enabled: false });
    expect(config.models.catalogRefresh).toEqual({ enabled: false });
  });

  it("merge keeps other providers and model settings, replaces only ours and the primary", () => {
    const merged = mergeGatewayModels(
      { models: { mode: "replace", providers: { mine: { baseUrl: "x" }, "nemoclaw-openai": { stale: true } } }, agents: { defaults: { model: { primary: "a/b", fallbacks: ["c/d"] }, workspace: "/w" } } },
      openclawProviderEntries(route("anthropic", "claude-x")),
    ) as Record<string, any>;
    expect(merged.models.mode).toBe("replace");
    expect(merged.models.providers.mine).toEqual({ baseUrl: "x" });
    expect(merged.models.providers["nemoclaw-openai"].stale).toBeUndefined();
    expect(merged.agents.defaults).toEqual({ model: { primary: "nemoclaw-anthropic/routed", fallbacks: ["c/d"] }, workspace: "/w" });
  });
});

describe("the in-sandbox rewrite", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-gwmodels-"));
    file = path.join(dir, "openclaw.json");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const rewrite = (models: unknown) => {
    const [node, ...args] = rewriteModelsArgv(OPENCLAW_ENTRY, file);
    expect(node).toBe("/usr/local/bin/node");
    return execa(process.execPath, args, { input: JSON.stringify(models), reject: false });
  };

  it("switches the primary in a JSON5 file with comments, atomically (0600, no temp file left), and says so", async () => {
    await writeFile(file, gatewayConfig("cd".repeat(32), openclawProviderEntries(route("openai", "gpt-x"))), { mode: 0o600 });
    const r = await rewrite(openclawProviderEntries(route("anthropic", "claude-x")));
    expect(r.stdout, r.stderr).toBe("changed");
    const after = JSON.parse(await readFile(file, "utf8")) as Record<string, any>;
    expect(after.agents.defaults.model.primary).toBe("nemoclaw-anthropic/routed");
    expect(after.gateway.auth.token).toBe("cd".repeat(32));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["openclaw.json"]);
  });

  it("leaves the file alone when nothing differs", async () => {
    const models = openclawProviderEntries(route("openai", "gpt-x"));
    await writeFile(file, gatewayConfig("cd".repeat(32), models), { mode: 0o600 });
    const before = await stat(file);
    const r = await rewrite(models);
    expect(r.stdout).toBe("unchanged");
    expect((await stat(file)).ino).toBe(before.ino);
  });

  it("fails with exit 3 when the config does not exist yet", async () => {
    const r = await rewrite(openclawProviderEntries(route("openai", "gpt-x")));
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain("no config yet");
  });
});
