// The gateway's token: the operator's own (hostGatewayToken) for the sandbox that takes over their
// gateway, else one made for it; the host file read back whichever it is.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureGatewayToken, gatewayTokenFile, hostGatewayToken, writeGatewayToken } from "../../../blueprint/sandbox/gateway-inside.js";
import { sandboxDir } from "../../../blueprint/state/paths.js";

const TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef";

describe("hostGatewayToken: the token the operator's CLI sends to a local gateway", () => {
  it("is gateway.auth.token with token auth or no mode set", () => {
    expect(hostGatewayToken({ gateway: { auth: { mode: "token", token: TOKEN } } })).toBe(TOKEN);
    expect(hostGatewayToken({ gateway: { mode: "local", auth: { token: ` ${TOKEN}\n` } } })).toBe(TOKEN);
  });

  it("is none for a remote CLI, password or other auth, a SecretRef, an env-only or unusable token", () => {
    expect(hostGatewayToken({})).toBeUndefined();
    expect(hostGatewayToken({ gateway: { mode: "remote", auth: { token: TOKEN } } })).toBeUndefined();
    expect(hostGatewayToken({ gateway: { auth: { mode: "password", token: TOKEN, password: "pw" } } })).toBeUndefined();
    expect(hostGatewayToken({ gateway: { auth: { mode: "none", token: TOKEN } } })).toBeUndefined();
    expect(hostGatewayToken({ gateway: { auth: { token: { source: "env", provider: "default", id: "OPENCLAW_GATEWAY_TOKEN" } } } })).toBeUndefined();
    expect(hostGatewayToken({ gateway: { auth: { token: "short" } } })).toBeUndefined();
    expect(hostGatewayToken({ gateway: { auth: { token: "has a space in it somewhere" } } })).toBeUndefined();
  });
});

describe("the token file", () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-token-"));
    await mkdir(sandboxDir(stateDir, "s1"), { recursive: true });
  });
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it("holds the operator's token when given (0600) and is read back as it is", async () => {
    await writeGatewayToken(stateDir, "s1", TOKEN);
    expect((await stat(gatewayTokenFile(stateDir, "s1"))).mode & 0o777).toBe(0o600);
    expect(await ensureGatewayToken(stateDir, "s1")).toBe(TOKEN);
  });

  it("is made (64 hex) when there is none, and kept", async () => {
    const made = await ensureGatewayToken(stateDir, "s1");
    expect(made).toMatch(/^[0-9a-f]{64}$/);
    expect(await ensureGatewayToken(stateDir, "s1")).toBe(made);
    expect((await readFile(gatewayTokenFile(stateDir, "s1"), "utf8")).trim()).toBe(made);
  });

  it("refuses a file that holds no usable token", async () => {
    await writeFile(gatewayTokenFile(stateDir, "s1"), "not a token\n");
    await expect(ensureGatewayToken(stateDir, "s1")).rejects.toThrow(/is not a gateway token/);
    await expect(writeGatewayToken(stateDir, "s1", "x y")).rejects.toThrow(/16 to 512/);
  });
});
