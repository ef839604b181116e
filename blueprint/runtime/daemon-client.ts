// How the runtime finds, starts and talks to the host daemon: HTTP over <stateDir>/control.sock.
// `ensureDaemon` is called by every verb that needs a sandbox's egress path (create, start); the
// daemon is started detached (`node main.js daemon <stateDir>`), outliving the CLI call.
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { KINDS } from "../credentials/kinds.js";
import { compiledBlueprintDir, runtimeIdentity } from "../state/runtime-files.js";
import { HealthSchema, type Health } from "./daemon.js";
import { RuntimeError } from "../state/runtime-error.js";
import { controlSocketFile, daemonLogFile } from "../state/paths.js";
import { ensureStateDir } from "../state/state-file.js";
import type { EgressPath } from "../sandbox/egress-path.js";

const START_TIMEOUT_MS = 10_000;

export class ControlError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ControlError";
    this.status = status;
  }
}

/** One control API call; rejects with ControlError on a non-2xx answer, with the socket error when unreachable. */
export function controlRequest(stateDir: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath: controlSocketFile(stateDir),
        method,
        path: route,
        headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {},
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new ControlError(response.statusCode ?? 0, `control API answered non-JSON: ${text.slice(0, 200)}`));
          }
          if ((response.statusCode ?? 500) >= 300) {
            const error = (parsed as { error?: string }).error ?? text;
            return reject(new ControlError(response.statusCode ?? 0, error));
          }
          resolve(parsed);
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error("control API did not answer within 10 s")));
    request.on("error", reject);
    request.end(payload);
  });
}

/** The daemon's health, or undefined when nothing answers on the control socket. */
export async function daemonHealth(stateDir: string): Promise<Health | undefined> {
  try {
    return HealthSchema.parse(await controlRequest(stateDir, "GET", "/health"));
  } catch (e) {
    if (e instanceof ControlError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    // No socket, nobody listening, or a daemon closing its socket right now.
    if (code === "ENOENT" || code === "ECONNREFUSED" || code === "EPIPE" || code === "ECONNRESET") return undefined;
    throw e;
  }
}

/** Names of variables that hold secrets by convention: the daemon reads keys from its store only. */
const SECRET_NAME = /(?:API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)$/i;

/**
 * The daemon's environment: the CLI call's, without Node's compile cache (Node writes it when a
 * process exits: the daemon's exit would write into the state dir long after the call that set
 * it, racing whoever removes that dir) and without secrets. The call that starts the daemon may
 * be `credentials add --from-env OPENAI_API_KEY`; the daemon outlives it and never needs the
 * variable, so it does not keep a copy of the key in its own environment.
 */
export function daemonEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const known = new Set(Object.values(KINDS).map((k) => k.envVar).filter((v) => v !== ""));
  return Object.fromEntries(Object.entries(env).filter(([name]) => name !== "NODE_COMPILE_CACHE" && !known.has(name) && !SECRET_NAME.test(name)));
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * V8 flags the daemon runs with. A 2 MB young-generation semi-space (Node's default is 16 MB)
 * holds the gateway's per-request garbage well: in the egress bench it cut the gateway's RSS by
 * 8 MB idle and 35 MB under 64 connections with no change in requests/s (1 MB cost ~15% of
 * them). The bench runs its gateway process with the same flags.
 */
export const DAEMON_NODE_FLAGS = ["--max-semi-space-size=2"];

/**
 * The running daemon for this state dir, started if none answers. A daemon from another build
 * (different sealed digest: the plugin was upgraded) is asked to stop and replaced.
 */
export async function ensureDaemon(stateDir: string): Promise<Health> {
  const identity = runtimeIdentity();
  const current = await daemonHealth(stateDir);
  if (current && current.digest === identity.digest) return current;
  if (current) await stopDaemon(stateDir);
  await ensureStateDir(stateDir);
  const logFile = daemonLogFile(stateDir);
  const log = openSync(logFile, "a", 0o600);
  try {
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, path.join(compiledBlueprintDir(), "runtime", "main.js"), "daemon", stateDir], {
      detached: true,
      stdio: ["ignore", log, log],
      cwd: stateDir,
      env: daemonEnv(process.env),
    });
    child.unref();
  } finally {
    closeSync(log);
  }
  const health = await waitFor(() => daemonHealth(stateDir), START_TIMEOUT_MS);
  if (!health) {
    const tail = (await readFile(logFile, "utf8").catch(() => "")).trim().split("\n").slice(-10);
    throw new RuntimeError(
      "daemon-failed",
      `the nemoclaw daemon did not start within ${START_TIMEOUT_MS / 1000} s`,
      `see ${logFile}`,
      tail,
    );
  }
  return health;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Asks the daemon to stop; resolves once its process has exited, not merely once its socket is
 * closed: it still flushes logs into the state dir after that, racing whoever removes the dir
 * next (uninstall does). False when none was running.
 */
export async function stopDaemon(stateDir: string): Promise<boolean> {
  const health = await daemonHealth(stateDir);
  if (!health) return false;
  await controlRequest(stateDir, "POST", "/shutdown", {});
  await waitFor(async () => ((await daemonHealth(stateDir)) ? undefined : true), START_TIMEOUT_MS);
  await waitFor(async () => (processAlive(health.pid) ? undefined : true), START_TIMEOUT_MS);
  return true;
}

/** The sandbox driver's egress path: this state dir's daemon, started when a sandbox needs it. */
export function daemonEgressPath(stateDir: string): EgressPath {
  return {
    async serve(name, remote) {
      await ensureDaemon(stateDir);
      await controlRequest(stateDir, "POST", "/sandboxes/serve", { name, ...(remote ? { remote } : {}) });
    },
    async release(name) {
      if (await daemonHealth(stateDir).catch(() => undefined)) {
        await controlRequest(stateDir, "POST", "/sandboxes/release", { name }).catch(() => undefined);
      }
    },
    async describe(name) {
      const health = await daemonHealth(stateDir).catch(() => undefined);
      return health?.sandboxes.includes(name) ? `daemon pid ${health.pid} serving proxy.sock (${health.egress})` : undefined;
    },
  };
}
