import { afterEach, describe, expect, it, vi } from "vitest";
import { createDockerClient, dockerConnection, describeDockerHost, isRemoteEngine } from "../../../blueprint/sandbox/docker-client.js";
import { RuntimeError } from "../../../blueprint/state/runtime-error.js";
import { dockerHostSchema } from "../../../src/config/schema.js";

// The parse only: nothing here connects.
const HOME = "/home/op";
const certs: Record<string, string> = {
  "/certs/ca.pem": "CA",
  "/certs/cert.pem": "CERT",
  "/certs/key.pem": "KEY",
  "/home/op/.docker/ca.pem": "HOME-CA",
  "/home/op/.docker/cert.pem": "HOME-CERT",
  "/home/op/.docker/key.pem": "HOME-KEY",
};
function readFile(file: string): Buffer {
  const text = certs[file];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: "ENOENT" });
  return Buffer.from(text);
}
const parse = (host: string | undefined, env: NodeJS.ProcessEnv = {}, exists = (_: string) => false) =>
  dockerConnection(host, { env: { HOME, ...env }, readFile, exists });

function refusal(host: string | undefined, env: NodeJS.ProcessEnv = {}): RuntimeError {
  try {
    parse(host, env);
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeError);
    expect((e as RuntimeError).code).toBe("docker-host-invalid");
    expect((e as RuntimeError).hint).toBeTruthy();
    return e as RuntimeError;
  }
  throw new Error(`accepted ${host}`);
}

describe("docker host: unix", () => {
  it("defaults to the local socket, or Docker Desktop's per-user one when it exists", () => {
    expect(parse(undefined)).toMatchObject({ url: "unix:///var/run/docker.sock", transport: "unix", source: "default", tls: false });
    const desktop = parse(undefined, {}, (f) => f === "/home/op/.docker/run/docker.sock");
    expect(desktop.options.socketPath).toBe("/home/op/.docker/run/docker.sock");
  });

  it("takes the path of unix://, the default for a bare unix://, and refuses a relative one", () => {
    expect(parse("unix:///tmp/d/docker.sock").options).toMatchObject({ socketPath: "/tmp/d/docker.sock", host: undefined });
    expect(parse("unix://").options.socketPath).toBe("/var/run/docker.sock");
    expect(refusal("unix://docker.sock").message).toMatch(/absolute socket path/);
  });

  it("the configured URL wins over DOCKER_HOST, which wins over the default", () => {
    const env = { DOCKER_HOST: "tcp://10.1.2.3:2375" };
    expect(parse("unix:///run/other.sock", env)).toMatchObject({ transport: "unix", source: "config" });
    expect(parse(undefined, env)).toMatchObject({ transport: "tcp", url: "tcp://10.1.2.3:2375", source: "DOCKER_HOST" });
    expect(parse("  ", env).source).toBe("DOCKER_HOST");
  });
});

describe("docker host: tcp", () => {
  it("is plain HTTP on 2375 without DOCKER_TLS_VERIFY; a host without a scheme is tcp://", () => {
    expect(parse("tcp://engine.test").options).toMatchObject({ host: "engine.test", port: 2375, protocol: "http", socketPath: undefined, ca: undefined });
    expect(parse("engine.test:4243")).toMatchObject({ url: "tcp://engine.test:4243", transport: "tcp", tls: false });
    expect(parse("tcp://[fd00::5]:2375").options.host).toBe("fd00::5");
  });

  it("speaks TLS with the client certificate from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set", () => {
    const c = parse("tcp://engine.test", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" });
    expect(c).toMatchObject({ tls: true, url: "tcp://engine.test:2376" });
    expect(c.options).toMatchObject({ protocol: "https", port: 2376 });
    expect(String(c.options.ca)).toBe("CA");
    expect(String(c.options.cert)).toBe("CERT");
    expect(String(c.options.key)).toBe("KEY");
    // any non-empty value means verify, as the docker CLI reads it; the cert dir defaults to ~/.docker
    const home = parse("tcp://engine.test:9999", { DOCKER_TLS_VERIFY: "yes" });
    expect(home.options).toMatchObject({ protocol: "https", port: 9999 });
    expect(String(home.options.cert)).toBe("HOME-CERT");
    expect(describeDockerHost).toBeTypeOf("function");
  });

  it("port 2376 means TLS even without DOCKER_TLS_VERIFY (server verified against the system roots)", () => {
    const c = parse("tcp://engine.test:2376");
    expect(c.options).toMatchObject({ protocol: "https", ca: undefined, cert: undefined });
  });

  it("a missing certificate under DOCKER_TLS_VERIFY is an error naming the file and what to do", () => {
    const e = refusal("tcp://engine.test", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/nowhere" });
    expect(e.message).toContain("/nowhere/ca.pem");
    expect(e.hint).toMatch(/DOCKER_CERT_PATH/);
  });

  it("refuses a bad port and a missing host", () => {
    expect(refusal("tcp://engine.test:99999").message).toMatch(/not a valid Docker host URL|not a TCP port/);
    expect(refusal("tcp://:2375").message).toMatch(/not a valid|needs a host/);
  });
});

describe("docker host: ssh", () => {
  it("carries user, host and port, uses the SSH agent, and is never turned into https by DOCKER_TLS_VERIFY", () => {
    const c = parse("ssh://ops@engine.test:2222", { DOCKER_TLS_VERIFY: "1", SSH_AUTH_SOCK: "/run/agent.sock" });
    expect(c).toMatchObject({ transport: "ssh", tls: false, url: "ssh://ops@engine.test:2222" });
    expect(c.options).toMatchObject({ protocol: "ssh", host: "engine.test", port: 2222, username: "ops", sshOptions: { agent: "/run/agent.sock" } });
    expect(parse("ssh://engine.test").options).toMatchObject({ port: 22, username: undefined });
  });

  it("refuses a password in the URL", () => {
    expect(refusal("ssh://ops:secret@engine.test").message).toMatch(/no password/);
  });
});

describe("docker host: refused up front", () => {
  it("npipe:// says it is Windows-only and what to use instead", () => {
    const e = refusal("npipe:////./pipe/docker_engine");
    expect(e.message).toMatch(/Windows named pipe/);
    expect(e.hint).toMatch(/WSL 2|tcp:\/\/|ssh:\/\//);
    expect(refusal(undefined, { DOCKER_HOST: "npipe:////./pipe/docker_engine" }).message).toMatch(/Windows named pipe/);
  });

  it("an unknown scheme names the ones that work", () => {
    expect(refusal("http://engine.test:2375").message).toMatch(/unsupported Docker host scheme http:\/\/.*unix:\/\/, tcp:\/\/ and ssh:\/\//);
  });

  it("the plugin's config schema refuses npipe:// with the reason, before the runtime runs", () => {
    const r = dockerHostSchema("a Docker URL").safeParse("npipe:////./pipe/docker_engine");
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(/Windows named pipe/)]);
    expect(dockerHostSchema("a Docker URL").safeParse("tcp://engine.test:2376").success).toBe(true);
  });
});

describe("createDockerClient", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("a configured unix:// socket is used even when DOCKER_HOST names a tcp:// engine (docker-modem's own env reading is overridden)", () => {
    vi.stubEnv("DOCKER_HOST", "tcp://10.9.9.9:2375");
    const modem = createDockerClient("unix:///tmp/own/docker.sock").modem as { socketPath?: unknown; host?: unknown };
    expect(modem.host).toBeUndefined();
    expect(modem.socketPath).toBe("/tmp/own/docker.sock");
  });

  it("tcp:// with DOCKER_TLS_VERIFY gives an https modem with the certificates", () => {
    const modem = createDockerClient("tcp://engine.test", { env: { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" }, readFile }).modem as unknown as Record<string, unknown>;
    expect(modem).toMatchObject({ protocol: "https", host: "engine.test", port: 2376 });
    expect(String(modem.key)).toBe("KEY");
  });
});

describe("remote mode", () => {
  it("is any engine not reached through a Unix socket, unless NEMOCLAW_ENGINE says otherwise", () => {
    const opts = (env: NodeJS.ProcessEnv) => ({ env: { HOME, ...env }, readFile, exists: () => false });
    expect(isRemoteEngine("unix:///var/run/docker.sock", opts({}))).toBe(false);
    expect(isRemoteEngine(undefined, opts({}))).toBe(false);
    expect(isRemoteEngine("tcp://engine.test:2375", opts({}))).toBe(true);
    expect(isRemoteEngine("ssh://ops@engine.test", opts({}))).toBe(true);
    expect(isRemoteEngine("unix:///tmp/forwarded.sock", opts({ NEMOCLAW_ENGINE: "remote" }))).toBe(true);
    expect(isRemoteEngine("tcp://127.0.0.1:2375", opts({ NEMOCLAW_ENGINE: "local" }))).toBe(false);
    expect(() => isRemoteEngine(undefined, opts({ NEMOCLAW_ENGINE: "maybe" }))).toThrow(/expected remote or local/);
  });
});
