// The rules launch interception applies in register() (src/launch/): which processes it
// replaces, which port it relays, the opt-outs, and which lock files it removes.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayPort, isForegroundGatewayArgv } from "../../../src/launch/argv.js";
import { decideLaunch } from "../../../src/launch/intercept.js";
import { removeLocksOf } from "../../../src/launch/locks.js";
import { resolvePluginConfig } from "../../../src/config/resolve.js";

const env = { OPENCLAW_STATE_DIR: "/home/op/.openclaw" };
const launchOn = resolvePluginConfig({ launch: { sandbox: "work", enabled: true } }, env);
const base = { title: "openclaw-gateway", env, config: launchOn, configPort: undefined, uid: 1000, insideSandbox: false };

describe("which invocations are the foreground gateway", () => {
  it.each([
    [["gateway"], true],
    [["gateway", "run"], true],
    [["gateway", "--port", "18789"], true],
    [["--profile", "dev", "gateway", "run", "--bind", "loopback", "--allow-unconfigured"], true],
    [["gateway", "--port=19000", "run"], true],
    [["gateway", "install"], false],
    [["gateway", "status"], false],
    [["gateway", "run", "extra"], false],
    [["nemoclaw", "gateway"], false],
    [["agent", "--message", "gateway"], false],
  ])("%j → %s", (args, expected) => {
    expect(isForegroundGatewayArgv(args)).toBe(expected);
  });

  it("takes the port from --port, then OPENCLAW_GATEWAY_PORT, then gateway.port, then 18789", () => {
    expect(gatewayPort(["gateway", "--port", "19001"], { OPENCLAW_GATEWAY_PORT: "19002" }, 19003)).toBe(19001);
    expect(gatewayPort(["gateway", "--port=19004"], {}, undefined)).toBe(19004);
    expect(gatewayPort(["gateway"], { OPENCLAW_GATEWAY_PORT: "19002" }, 19003)).toBe(19002);
    expect(gatewayPort(["gateway"], {}, 19003)).toBe(19003);
    expect(gatewayPort(["gateway"], {}, undefined)).toBe(18789);
    expect(gatewayPort(["gateway", "--port", "nope"], {}, undefined)).toBe(18789);
  });
});

describe("decideLaunch", () => {
  it("relaunches the host's gateway run in the configured sandbox, with OpenClaw's lock folder", () => {
    expect(decideLaunch({ ...base, args: ["gateway", "run", "--port", "19010"] })).toEqual({
      kind: "launch",
      request: { name: "work", port: 19010, stateDir: "/home/op/.openclaw/nemoclaw", lockDir: "/home/op/.openclaw/tmp/openclaw-1000" },
    });
  });

  it("leaves every other OpenClaw process alone", () => {
    expect(decideLaunch({ ...base, args: ["gateway", "install"] }).kind).toBe("not-a-gateway-run");
    expect(decideLaunch({ ...base, title: "openclaw-agent", args: ["gateway"] }).kind).toBe("not-a-gateway-run");
  });

  it("never relaunches inside a sandbox (recursion guard)", () => {
    expect(decideLaunch({ ...base, args: ["gateway"], insideSandbox: true }).kind).toBe("inside-sandbox");
  });

  it("does nothing before onboarding, but the service wrapper refuses to run unsandboxed", () => {
    const none = resolvePluginConfig({}, env);
    expect(decideLaunch({ ...base, config: none, args: ["gateway"] }).kind).toBe("not-configured");
    expect(decideLaunch({ ...base, config: none, env: { ...env, NEMOCLAW_REQUIRE_SANDBOX: "1" }, args: ["gateway"] })).toMatchObject({ kind: "refused" });
    // …unless the operator opts out, loudly.
    expect(decideLaunch({ ...base, config: none, env: { ...env, NEMOCLAW_REQUIRE_SANDBOX: "1", NEMOCLAW_NO_SANDBOX: "1" }, args: ["gateway"] })).toEqual({
      kind: "opted-out",
      reason: "NEMOCLAW_NO_SANDBOX=1 is set",
    });
  });

  it("opts out loudly by env or by the config switch", () => {
    expect(decideLaunch({ ...base, env: { ...env, NEMOCLAW_NO_SANDBOX: "1" }, args: ["gateway"] })).toEqual({ kind: "opted-out", reason: "NEMOCLAW_NO_SANDBOX=1 is set" });
    const off = resolvePluginConfig({ launch: { sandbox: "work", enabled: false } }, env);
    expect(decideLaunch({ ...base, config: off, args: ["gateway"] })).toMatchObject({ kind: "opted-out", reason: expect.stringContaining("launch.enabled is false") });
  });

  it("the config schema rejects a launch entry without a valid sandbox name", () => {
    expect(() => resolvePluginConfig({ launch: { sandbox: "Bad_Name", enabled: true } }, env)).toThrow(/launch\.sandbox/);
    expect(() => resolvePluginConfig({ launch: { sandbox: "work" } }, env)).toThrow(/launch\.enabled/);
  });
});

describe("removeLocksOf", () => {
  let dir: string | undefined;
  afterEach(async () => dir && rm(dir, { recursive: true, force: true }));

  it("removes only the JSON lock files naming this pid", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-locks-"));
    await writeFile(path.join(dir, "gateway.state.lock"), JSON.stringify({ pid: 4242, createdAt: "x" }));
    await writeFile(path.join(dir, "gateway.ab12.lock"), JSON.stringify({ pid: 4242 }));
    await writeFile(path.join(dir, "gateway.other.lock"), JSON.stringify({ pid: 1 }));
    await writeFile(path.join(dir, "gateway.state.lock.sqlite"), "");
    await writeFile(path.join(dir, "garbage.lock"), "not json");
    expect(removeLocksOf(4242, dir).map((f) => path.basename(f)).sort()).toEqual(["gateway.ab12.lock", "gateway.state.lock"]);
    expect((await readdir(dir)).sort()).toEqual(["garbage.lock", "gateway.other.lock", "gateway.state.lock.sqlite"]);
    expect(removeLocksOf(4242, path.join(dir, "absent"))).toEqual([]);
  });
});
