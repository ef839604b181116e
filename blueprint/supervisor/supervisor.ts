// The sandbox supervisor: the container's entrypoint under tini (`docker run --init`).
//
//   PID 1  docker-init (tini)
//   └─ node supervisor.js       root; CAP_SETUID, CAP_SETGID, CAP_SETPCAP only
//      ├─ egress-forwarder       127.0.0.1:3128 → /run/nemoclaw/proxy.sock, caller preamble first
//      │                         (C, relays bytes; this process names each caller: egress-forwarder.ts)
//      └─ landlock-exec … -- workload   drops to uid 1000, empties every capability set
//                                       (bounding included), no_new_privs, Landlock
//
// It runs from a staged copy of dist/blueprint/supervisor, mounted read-only at /opt/nemoclaw, with
// Node's built-ins and this folder only: nothing in node_modules is reachable from here, and nothing in the image is
// trusted beyond node and the launcher.
//
// Configuration comes in one environment variable, NEMOCLAW_SUPERVISOR (JSON, written by
// sandbox/container-spec.ts). The supervisor's environment is unreadable to the workload (another
// uid), and the workload gets only the environment the config lists, never the supervisor's.
//
// Caller identification (identify.ts) reads /proc/<pid>/fd and /proc/<pid>/exe of the workload's processes.
// Root here cannot: /proc/<pid>/fd is mode 0500 owned by the process's uid, and root holds no
// CAP_DAC_READ_SEARCH (CAP_SYS_PTRACE would pass the ptrace access check but not that). Rather
// than take either capability, the supervisor borrows the workload's uid and gid for the
// synchronous /proc scan and returns to root right after. That makes it non-dumpable for good
// (a credential change resets the flag), which keeps its own /proc entries closed too; the
// workload still cannot signal it (signals check the real and saved uid, which stay 0).
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { pathToFileURL } from "node:url";
import { CALLER_SECRET_PATTERN } from "./caller-preamble.js";
import { startForwarder, type ForwarderConfig, type RunningForwarder } from "./egress-forwarder.js";
import { keepCompileCache, parseGatewayConfig, startGatewayRelay, type GatewaySupervisorConfig } from "./gateway-relay.js";
import { asUser } from "./identify.js";
import { parseRestartPolicy, restartDelay, type RestartPolicy } from "./restart-policy.js";
import { parseSeed, seedWorkloadFile, type WorkloadSeed } from "./workload-seed.js";

export interface SupervisorConfig {
  /** argv of the launcher, ending in `-- <workload argv>`. */
  launcher: string[];
  /** The workload's complete environment. */
  env: Record<string, string>;
  forwarder: ForwarderConfig;
  /** The workload's uid and gid, borrowed to read its processes' /proc entries. */
  caller: { uid: number; gid: number };
  /**
   * The sandbox's caller secret (64 hex), written first in every preamble: the gateway refuses a
   * connection without it, so reaching proxy.sock (a host daemon running as the workload's uid)
   * is not enough to speak for the sandbox. Held here only, in this process's environment.
   */
  secret: string;
  /** A file the workload finds in place before it starts, unless it exists (workload-seed.ts). */
  seed?: WorkloadSeed | undefined;
  /** Set when the workload is the OpenClaw gateway (gateway-relay.ts). */
  gateway?: GatewaySupervisorConfig | undefined;
  /** Start the workload again when it fails (restart-policy.ts); unset: its exit ends the sandbox. */
  restart?: RestartPolicy | undefined;
}

const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;
/** Forwarded, and the end of restarts: what `docker stop` and Ctrl-C send. */
const STOP_SIGNALS: ReadonlySet<string> = new Set(["SIGTERM", "SIGINT", "SIGQUIT"]);


function log(message: string): void {
  process.stderr.write(`nemoclaw-supervisor: ${message}\n`);
}

export function parseConfig(text: string | undefined): SupervisorConfig {
  if (!text) throw new Error("NEMOCLAW_SUPERVISOR is not set");
  const raw = JSON.parse(text) as Partial<SupervisorConfig>;
  const launcher = raw.launcher;
  if (!Array.isArray(launcher) || launcher.length === 0 || !launcher.every((a) => typeof a === "string")) {
    throw new Error("config.launcher must be a non-empty list of strings");
  }
  const env = raw.env;
  if (typeof env !== "object" || env === null || !Object.values(env).every((v) => typeof v === "string")) {
    throw new Error("config.env must map names to strings");
  }
  const f = raw.forwarder;
  if (!f || typeof f.host !== "string" || !Number.isInteger(f.port) || typeof f.socket !== "string" || !f.socket.startsWith("/") || typeof f.program !== "string" || !f.program.startsWith("/")) {
    throw new Error("config.forwarder must name host, port, an absolute socket path and the forwarder's absolute program path; a container made by an older nemoclaw has no program: destroy and create the sandbox again");
  }
  const c = raw.caller;
  if (!c || !Number.isInteger(c.uid) || !Number.isInteger(c.gid) || c.uid < 1 || c.gid < 1) {
    throw new Error("config.caller must be the workload's uid and gid (not 0)");
  }
  if (typeof raw.secret !== "string" || !CALLER_SECRET_PATTERN.test(raw.secret)) {
    throw new Error("config.secret must be the sandbox's caller secret (64 hex digits); a container made by an older nemoclaw has none: destroy and create the sandbox again");
  }
  const seed = parseSeed(raw.seed);
  const gateway = parseGatewayConfig(raw.gateway);
  const restart = parseRestartPolicy(raw.restart);
  return {
    launcher,
    env,
    forwarder: { host: f.host, port: f.port, socket: f.socket, program: f.program },
    caller: { uid: c.uid, gid: c.gid },
    secret: raw.secret,
    ...(seed ? { seed } : {}),
    ...(gateway ? { gateway } : {}),
    ...(restart ? { restart } : {}),
  };
}

// ── Workload ─────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  let config: SupervisorConfig;
  try {
    config = parseConfig(process.env.NEMOCLAW_SUPERVISOR);
  } catch (e) {
    log(`bad configuration: ${(e as Error).message}`);
    return 2;
  }
  let forwarder: RunningForwarder;
  try {
    forwarder = await startForwarder(config.forwarder, config.caller, config.secret, log);
  } catch (e) {
    log(`cannot listen on ${config.forwarder.host}:${config.forwarder.port}: ${(e as Error).message}`);
    return 2;
  }
  if (config.seed) {
    try {
      seedWorkloadFile(config.seed, config.caller);
    } catch (e) {
      log(`cannot write the workload's ${config.seed.path}: ${(e as Error).message}`);
      // The gateway cannot start without its config. OpenClaw run by the agent can: without the
      // proxy line its own requests fail (no network), and the rest of the sandbox still works,
      // so what the workload left in /sandbox on an earlier run cannot keep the sandbox down.
      if (config.gateway) return 2;
    }
  }
  if (config.gateway) {
    try {
      keepCompileCache(config.caller);
      await startGatewayRelay(config.gateway);
    } catch (e) {
      log(`cannot prepare the gateway (relay ${config.gateway.socket}): ${(e as Error).message}`);
      return 2;
    }
  }
  const [command, ...args] = config.launcher as [string, ...string[]];
  // fd 3 tells whether the launcher's exec of the workload happened (see landlock-exec.c).
  args.unshift("--ready-fd", "3");
  let child: ChildProcess | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  // Root here holds no CAP_KILL, so signals go out as the workload's user: the kernel lets a
  // process signal another of the same uid. A stop signal also means: do not restart it.
  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => {
      if (STOP_SIGNALS.has(signal)) {
        stopping = true;
        wake?.();
      }
      const current = child;
      if (current && current.exitCode === null && current.signalCode === null) asUser(config.caller, () => current.kill(signal));
    });
  }
  const failures: number[] = [];
  for (;;) {
    const run = runWorkload(command, args, config.env);
    child = run.child;
    const { status, exec } = await run.done;
    // A workload ended by a stop signal (whoever sent it: `openclaw gateway stop` inside, a
    // relay's stop) was stopped on purpose, not failed: 128 + SIGINT, SIGKILL or SIGTERM.
    const signalled = status === 130 || status === 137 || status === 143;
    if (status === 0 || stopping || signalled || exec !== "ran" || !config.restart) {
      forwarder.close();
      return status;
    }
    failures.push(Date.now());
    const delay = restartDelay(config.restart, failures, Date.now());
    if (delay === undefined) {
      log(`giving up: the workload failed ${failures.length} times, ${config.restart.attempts + 1} within ${config.restart.windowMs / 60_000} min`);
      forwarder.close();
      return status;
    }
    log(`starting the workload again in ${delay / 1000} s (failure ${failures.length})`);
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, delay);
    });
    wake = undefined;
    if (stopping) {
      forwarder.close();
      return status;
    }
  }
}

/**
 * One run of the workload through the launcher. `exec` says how far it got: "ran" (the launcher
 * exec'd the workload), "refused" (the launcher reported why it could not), "failed" (the
 * launcher itself did not start). The cwd is inherited (the container's WorkingDir, /sandbox):
 * root here cannot enter /sandbox (0750, uid 1000) without CAP_DAC_OVERRIDE, so it must not chdir.
 */
function runWorkload(command: string, args: readonly string[], env: Record<string, string>): { child: ChildProcess; done: Promise<{ status: number; exec: "ran" | "refused" | "failed" }> } {
  const child = spawn(command, args, { env, stdio: ["inherit", "inherit", "inherit", "pipe"] });
  const ready = child.stdio[3];
  const done = new Promise<{ status: number; exec: "ran" | "refused" | "failed" }>((resolve) => {
    let started = false;
    let execFailure = "";
    ready?.on("data", (chunk: Buffer) => (execFailure += chunk.toString("utf8")));
    ready?.on("end", () => {
      if (execFailure === "") log(`workload started (pid ${child.pid})`);
    });
    child.once("spawn", () => {
      started = true;
    });
    child.on("error", (e) => {
      if (started) return log(`cannot signal the workload: ${e.message}`);
      log(`cannot start the workload: ${e.message}`);
      resolve({ status: 2, exec: "failed" });
    });
    child.once("exit", (code, signal) => {
      const status = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      log(`workload exited (${signal ? `signal ${signal}` : `code ${code}`})`);
      resolve({ status, exec: execFailure === "" ? "ran" : "refused" });
    });
  });
  return { child, done };
}

// Run only as the entrypoint, so tests can import the pieces above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main());
}
