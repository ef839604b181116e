// Onboarding's pure parts: flag/env parsing, what detection reads from a server's model list,
// the presets an operator's config implies, and the state file's round trip and refusal.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listModels, modelIds } from "../../../src/onboard/detect.js";
import { impliedPresets, readOperatorConfig, snapshotOperatorConfig } from "../../../src/onboard/operator-config.js";
import { parseOnboardFlags } from "../../../src/onboard/options.js";
import { onboardStateFile, readOnboardState, writeOnboardState } from "../../../src/onboard/state.js";
import { UserError } from "../../../src/errors.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "onboard-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("parseOnboardFlags", () => {
  it("flags win over NEMOCLAW_* variables; presets split on commas", () => {
    const f = parseOnboardFlags({ model: "m1", preset: "npm, github,", json: true }, { NEMOCLAW_MODEL: "m0", NEMOCLAW_PROVIDER: "ollama" });
    expect(f).toEqual({ model: "m1", provider: "ollama", preset: ["npm", "github"], json: true });
  });
  it("a bad value names the flag as typed and what it should be", () => {
    const err = (raw: Record<string, unknown>) => {
      try {
        parseOnboardFlags(raw, {});
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(err({ apiKeyEnv: "MY-KEY" })).toMatch(/^--api-key-env "MY-KEY": the NAME of an environment variable/);
    expect(err({ baseUrl: "ftp://x" })).toMatch(/^--base-url "ftp:\/\/x": an http/);
    expect(err({ dockerHost: "/var/run/docker.sock" })).toMatch(/^--docker-host/);
    expect(err({ name: "Not_A_Label" })).toMatch(/^--name "Not_A_Label"/);
    expect(err({ bogus: true })).toMatch(/unknown option --bogus/);
  });
});

describe("detection", () => {
  it("reads OpenAI-style and Ollama-style model lists", () => {
    expect(modelIds({ object: "list", data: [{ id: "a" }, { id: "b" }] })).toEqual(["a", "b"]);
    expect(modelIds({ models: [{ name: "qwen3:8b" }] })).toEqual(["qwen3:8b"]);
    expect(modelIds({ nothing: true })).toEqual([]);
  });
  it("a server on loopback is listed; a closed port is not", async () => {
    const server = http.createServer((_req, res) => res.end(JSON.stringify({ data: [{ id: "local-model" }] })));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await listModels(`http://127.0.0.1:${port}/v1/models`)).toEqual(["local-model"]);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await listModels(`http://127.0.0.1:${port}/v1/models`)).toBeUndefined();
  });
});

describe("the operator's config", () => {
  it("implies presets for configured channels (not disabled ones); reads JSON5", async () => {
    const file = path.join(dir, "openclaw.json");
    await writeFile(file, "{ // comment\n channels: { telegram: { botToken: 'x' }, slack: { enabled: false }, discord: {} }, }\n");
    const c = await readOperatorConfig(file);
    expect(c.exists).toBe(true);
    expect(impliedPresets(c.config)).toEqual(["telegram", "discord"]);
    expect((await readOperatorConfig(path.join(dir, "none.json"))).exists).toBe(false);
  });
  it("is snapshotted byte for byte, once", async () => {
    const file = path.join(dir, "host.json");
    await writeFile(file, '{"a":1}\n');
    const stateDir = path.join(dir, "state-snap");
    const first = await snapshotOperatorConfig(stateDir, file);
    expect(first.made).toBe(true);
    await writeFile(file, '{"a":2}\n');
    const second = await snapshotOperatorConfig(stateDir, file);
    expect(second.made).toBe(false);
    expect(await readFile(first.snapshot, "utf8")).toBe('{"a":1}\n');
  });
  it("a config that does not parse is an error saying how to fix it", async () => {
    const file = path.join(dir, "broken.json");
    await writeFile(file, "{ nope");
    await expect(readOperatorConfig(file)).rejects.toThrow(/does not parse/);
  });
});

describe("onboarding state", () => {
  it("round-trips, 0600, and an invalid file is refused with the fix", async () => {
    const stateDir = path.join(dir, "state");
    const empty = await readOnboardState(stateDir, "box");
    expect(empty).toMatchObject({ name: "box", createdSandbox: false, steps: {} });
    await writeOnboardState(stateDir, { ...empty, createdSandbox: true, answers: { provider: "ollama", presets: ["npm"] } });
    expect(await readOnboardState(stateDir, "box")).toMatchObject({ createdSandbox: true, answers: { provider: "ollama", presets: ["npm"] } });
    expect((await stat(onboardStateFile(stateDir, "box"))).mode & 0o777).toBe(0o600);
    await writeFile(onboardStateFile(stateDir, "box"), "{}");
    await expect(readOnboardState(stateDir, "box")).rejects.toThrow(/is not valid/);
  });
});
