import { describe, expect, it } from "vitest";
import { LAUNCHER_PATH } from "../../../blueprint/sandbox/image.js";
import { GATEWAY_CONFIG, GATEWAY_LOG_DIR, GATEWAY_STATE_DIR, gatewayConfig } from "../../../blueprint/sandbox/gateway-inside.js";
import { parseGatewayConfig } from "../../../blueprint/supervisor/gateway-relay.js";
import { LAUNCHER, TOOL_READ_ONLY, TOOL_READ_WRITE, toolEnv, toolShellArgv } from "../../../blueprint/supervisor/tool-domain.js";

describe("the tools' domain", () => {
  it("uses the image's launcher (the supervisor folder restates its path)", () => {
    expect(LAUNCHER).toBe(LAUNCHER_PATH);
  });

  it("names none of the gateway's state, binds nothing and connects only to the forwarder", () => {
    const argv = toolShellArgv("true");
    for (const p of [...TOOL_READ_ONLY, ...TOOL_READ_WRITE]) {
      for (const secret of [GATEWAY_STATE_DIR, GATEWAY_LOG_DIR, "/sandbox", "/tmp", "/"]) expect(p === secret || secret.startsWith(`${p}/`)).toBe(false);
    }
    expect(argv).not.toContain("--bind-tcp");
    expect(argv.slice(argv.indexOf("--connect-tcp"), argv.indexOf("--"))).toEqual(["--connect-tcp", "3128"]);
    expect(argv).not.toContain("--uid");
    expect(argv.slice(-3)).toEqual(["/bin/sh", "-c", "true"]);
    expect(argv[1]).toBe("--hard-requirement");
  });

  it("builds the environment from an allow-list: no gateway token, no keys, fixed PATH and HOME", () => {
    const env = toolEnv(
      { OPENCLAW_GATEWAY_TOKEN: "t", OPENAI_API_KEY: "k", NODE_EXTRA_CA_CERTS: "/run/nemoclaw/ca.pem", SHELL: "/x", RANDOM_THING: "x" },
      { FOO: "bar", GITHUB_TOKEN: "g", PATH: "/evil", LD_PRELOAD: "/evil.so" },
    );
    expect(env).toMatchObject({ FOO: "bar", NODE_EXTRA_CA_CERTS: "/run/nemoclaw/ca.pem", HOME: "/sandbox/workspace", SHELL: "/bin/sh", HTTPS_PROXY: "http://127.0.0.1:3128" });
    expect(env.PATH).not.toContain("/evil");
    for (const k of ["OPENCLAW_GATEWAY_TOKEN", "OPENAI_API_KEY", "GITHUB_TOKEN", "LD_PRELOAD", "RANDOM_THING"]) expect(env).not.toHaveProperty(k);
  });
});

describe("the gateway's seeded config", () => {
  it("binds loopback with token auth and sandboxes every agent with the nemoclaw backend", () => {
    const text = gatewayConfig("ab".repeat(32));
    const config = JSON.parse(text.replace(/^\/\/.*$/gm, ""));
    expect(config.gateway).toEqual({ mode: "local", bind: "loopback", port: 18789, auth: { mode: "token", token: "ab".repeat(32) } });
    expect(config.agents.defaults.sandbox).toMatchObject({ mode: "all", backend: "nemoclaw" });
    expect(config.agents.defaults.workspace).toBe("/sandbox/workspace");
    expect(config.tools).toMatchObject({ fs: { workspaceOnly: true }, elevated: { enabled: false }, codeMode: false });
    expect(config.tools.deny).toEqual(expect.arrayContaining(["gateway", "openclaw", "cron", "plugins", "group:automation"]));
    expect(GATEWAY_CONFIG.startsWith(`${GATEWAY_STATE_DIR}/`)).toBe(true);
  });

  it("supervisor refuses a gateway section without a TCP port or an absolute socket path", () => {
    expect(parseGatewayConfig(undefined)).toBeUndefined();
    expect(() => parseGatewayConfig({ port: 18789, socket: "rel.sock" })).toThrow(/socket must be an absolute path/);
    expect(() => parseGatewayConfig({ port: 0, socket: "/a.sock" })).toThrow(/port must be a TCP port/);
  });
});
