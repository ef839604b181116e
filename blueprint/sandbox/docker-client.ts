import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { RuntimeError } from "../state/runtime-error.js";

// How we reach the Docker Engine, by the conventions docker-modem (and the docker CLI) use:
// the configured URL, else DOCKER_HOST, else the local socket (~/.docker/run/docker.sock when it
// exists, else /var/run/docker.sock). A host without "//" is tcp://. tcp:// speaks TLS when
// DOCKER_TLS_VERIFY is set (any non-empty value, as the docker CLI reads it) or the port is 2376,
// with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH (default ~/.docker); ssh:// uses the
// agent at SSH_AUTH_SOCK. Where docker-modem would do something surprising we do not follow it:
// DOCKER_TLS_VERIFY does not turn ssh:// into https, and npipe:// (a Windows named pipe) is
// refused before anything is tried.
//
// Every connection field is passed explicitly: docker-modem merges its own reading of the
// environment under whatever it is given, so a DOCKER_HOST=tcp://… would otherwise win over a
// configured unix:// socket.

export type DockerTransport = "unix" | "tcp" | "ssh";

export interface DockerConnection {
  /** The URL in force, as a person would write it (no credentials). */
  url: string;
  transport: DockerTransport;
  /** tcp:// over TLS (client certificate when DOCKER_CERT_PATH has one). */
  tls: boolean;
  /** Where it came from: "config" (dockerHost / --docker-host), "DOCKER_HOST" or "default". */
  source: "config" | "DOCKER_HOST" | "default";
  options: Docker.DockerOptions;
}

const FIX = "set plugins.entries.nemoclaw.config.dockerHost (or --docker-host, or DOCKER_HOST) to unix:///path/docker.sock, tcp://host:2376 or ssh://user@host";

function invalid(message: string, fix = FIX): RuntimeError {
  return new RuntimeError("docker-host-invalid", message, fix);
}

export interface ConnectionInputs {
  env?: NodeJS.ProcessEnv;
  /** Reads certificate files; tests pass their own. */
  readFile?: (file: string) => Buffer;
  /** Whether a path exists (the per-user Docker Desktop socket). */
  exists?: (file: string) => boolean;
}

/** The connection for `dockerHost` (or the environment), without connecting. Throws RuntimeError `docker-host-invalid`. */
export function dockerConnection(dockerHost: string | undefined, inputs: ConnectionInputs = {}): DockerConnection {
  const env = inputs.env ?? process.env;
  const readFile = inputs.readFile ?? ((file: string) => fs.readFileSync(file));
  const exists = inputs.exists ?? ((file: string) => fs.existsSync(file));
  const home = env.HOME || os.homedir();
  const configured = dockerHost?.trim() || undefined;
  const fromEnv = env.DOCKER_HOST?.trim() || undefined;
  const source = configured ? "config" : fromEnv ? "DOCKER_HOST" : "default";
  const named = configured ?? fromEnv;
  if (!named) {
    const desktop = path.join(home, ".docker", "run", "docker.sock");
    return unix(exists(desktop) ? desktop : "/var/run/docker.sock", source);
  }
  const raw = named.includes("//") ? named : `tcp://${named}`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  switch (scheme) {
    case "unix": {
      const socketPath = raw.slice("unix://".length);
      if (!socketPath) return unix("/var/run/docker.sock", source);
      if (!socketPath.startsWith("/")) throw invalid(`${named}: a unix:// Docker host needs an absolute socket path, e.g. unix:///var/run/docker.sock`);
      return unix(socketPath, source);
    }
    case "npipe":
      throw invalid(
        `${named}: npipe:// is a Windows named pipe, and nemoclaw runs sandboxes on Linux Docker engines only`,
        "on Windows, run nemoclaw inside WSL 2 with Docker's unix socket, or point dockerHost at a Linux engine (tcp:// or ssh://)",
      );
    case "tcp":
      return tcp(raw, named, source, env, home, readFile);
    case "ssh":
      return ssh(raw, named, source, env);
    default:
      throw invalid(`${named}: unsupported Docker host scheme${scheme ? ` ${scheme}://` : ""}; nemoclaw speaks unix://, tcp:// and ssh://`);
  }
}

function parseUrl(raw: string, named: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw invalid(`${named} is not a valid Docker host URL`);
  }
}

function port(url: URL, named: string, fallback: number): number {
  if (!url.port) return fallback;
  const n = Number(url.port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(`${named}: ${url.port} is not a TCP port`);
  return n;
}

const NO_TLS = { ca: undefined, cert: undefined, key: undefined };

function unix(socketPath: string, source: DockerConnection["source"]): DockerConnection {
  return {
    url: `unix://${socketPath}`,
    transport: "unix",
    tls: false,
    source,
    options: { socketPath, host: undefined, port: undefined, protocol: undefined, ...NO_TLS } as Docker.DockerOptions,
  };
}

function tcp(
  raw: string,
  named: string,
  source: DockerConnection["source"],
  env: NodeJS.ProcessEnv,
  home: string,
  readFile: (file: string) => Buffer,
): DockerConnection {
  const url = parseUrl(raw, named);
  if (!url.hostname) throw invalid(`${named}: a tcp:// Docker host needs a host name or address, e.g. tcp://10.0.0.5:2376`);
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  const p = port(url, named, verify ? 2376 : 2375);
  const tls = verify || p === 2376;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const base = { socketPath: undefined, host, port: p, protocol: tls ? "https" : "http" } as const;
  const display = `tcp://${url.port ? url.host : `${url.host}:${p}`}`;
  if (!tls) return { url: display, transport: "tcp", tls, source, options: { ...base, ...NO_TLS } as Docker.DockerOptions };
  const certDir = env.DOCKER_CERT_PATH || (verify ? path.join(home, ".docker") : undefined);
  const files = certDir ? readCerts(certDir, verify, readFile) : NO_TLS;
  return { url: display, transport: "tcp", tls, source, options: { ...base, ...files } as Docker.DockerOptions };
}

/** ca.pem, cert.pem and key.pem from `dir`; with verification all three must be there. */
function readCerts(dir: string, required: boolean, readFile: (file: string) => Buffer): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const name of ["ca", "cert", "key"] as const) {
    const file = path.join(dir, `${name}.pem`);
    try {
      out[name] = readFile(file);
    } catch (e) {
      if (!required && (e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw invalid(
        `DOCKER_TLS_VERIFY is set but ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        "put the engine's ca.pem and your client's cert.pem and key.pem in DOCKER_CERT_PATH (default ~/.docker), or unset DOCKER_TLS_VERIFY for a plain-HTTP engine",
      );
    }
  }
  return out;
}

function ssh(raw: string, named: string, source: DockerConnection["source"], env: NodeJS.ProcessEnv): DockerConnection {
  const url = parseUrl(raw, named);
  if (!url.hostname) throw invalid(`${named}: an ssh:// Docker host needs a host, e.g. ssh://user@host`);
  const p = port(url, named, 22);
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  if (url.password) throw invalid(`${named}: put no password in the Docker host URL; ssh:// uses your SSH agent (SSH_AUTH_SOCK)`);
  return {
    url: `ssh://${username ? `${username}@` : ""}${url.host}`,
    transport: "ssh",
    tls: false,
    source,
    options: {
      socketPath: undefined,
      protocol: "ssh",
      host: url.hostname,
      port: p,
      username,
      sshOptions: { agent: env.SSH_AUTH_SOCK },
      ...NO_TLS,
    } as Docker.DockerOptions,
  };
}

/**
 * Whether new sandboxes on this engine go in remote mode (docs/architecture.md, "Remote engines"):
 * `NEMOCLAW_ENGINE=remote|local` decides; otherwise any engine not reached through a Unix socket
 * (its kernel and file system are not assumed to be this host's).
 */
export function isRemoteEngine(dockerHost: string | undefined, inputs: ConnectionInputs = {}): boolean {
  const env = inputs.env ?? process.env;
  const forced = env.NEMOCLAW_ENGINE?.trim();
  if (forced === "remote") return true;
  if (forced === "local") return false;
  if (forced) throw invalid(`NEMOCLAW_ENGINE=${forced}: expected remote or local`, "unset NEMOCLAW_ENGINE to decide by the Docker host, or set it to remote or local");
  return dockerConnection(dockerHost, inputs).transport !== "unix";
}

/** A Docker Engine client for `dockerHost` (or DOCKER_HOST, or the local socket). One place decides how we reach Docker. */
export function createDockerClient(dockerHost?: string, inputs: ConnectionInputs = {}): Docker {
  const connection = dockerConnection(dockerHost, inputs);
  try {
    return new Docker(connection.options);
  } catch (e) {
    // docker-modem reads DOCKER_HOST/DOCKER_CERT_PATH itself in its constructor, whatever it is given.
    throw invalid(`Docker client for ${connection.url} could not be set up: ${(e as Error).message}`, "check DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH in this environment");
  }
}

/** The engine in force, for messages: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376 (TLS)`. */
export function describeDockerHost(dockerHost?: string): string {
  try {
    const c = dockerConnection(dockerHost);
    return c.tls ? `${c.url} (TLS)` : c.url;
  } catch {
    return dockerHost ?? "unix:///var/run/docker.sock";
  }
}

/** The Engine answered 404: no such container, volume or image. */
export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { statusCode?: unknown }).statusCode === 404;
}
