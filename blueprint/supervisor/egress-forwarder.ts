// The supervisor's half of the sandbox's egress forwarder. egress-forwarder.c listens on
// 127.0.0.1:3128 and relays bytes to the host's proxy socket; it decides nothing. For each
// connection it accepts it asks, on a socket pair (its fd 3), `who <id> <client port>`; this
// answers `caller <id> <preamble>` with the caller found from /proc (identify.ts) and the
// sandbox's secret (caller-preamble.ts), and only then does the forwarder read the client's bytes.
//
// Node built-ins only (staged alone into containers).
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import type net from "node:net";
import { formatPreamble, unidentifiedCaller, type Caller } from "./caller-preamble.js";
import { ExeHashes, identifyCaller, type Ids } from "./identify.js";

export interface ForwarderConfig {
  host: string;
  port: number;
  /** The host runtime's socket inside (the sandbox's only way out). */
  socket: string;
  /** The forwarder's executable (built into the image beside the launcher). */
  program: string;
}

export interface RunningForwarder {
  /** Stops it, and the restarts. */
  close(): void;
}

const RESTART_DELAY_MS = 1_000;
const WHO_LINE = /^who (\d{1,20}) (\d{1,5})$/;

/**
 * Starts the forwarder; resolves once it listens. It is started again a second after it ends
 * for any reason but close() (its connections end with it; the workload's next ones reach the
 * new one). Rejects when the first start does not get as far as listening (it said why on stderr).
 */
export function startForwarder(config: ForwarderConfig, caller: Ids, secret: string, log: (message: string) => void): Promise<RunningForwarder> {
  const hashes = new ExeHashes();
  // The workload is node, like us: hashing our own executable ahead (same file, same cache key)
  // spares its first connection the ~100 MB read. Not before the workload has started: the
  // sandbox may have one CPU, and the hash would delay the start by its full length.
  const prehash = setTimeout(() => {
    try {
      void hashes.hash(openSync(process.execPath, "r")).catch(() => undefined);
    } catch {
      // Not readable: the first connection hashes it instead.
    }
  }, 1_000);
  prehash.unref();

  const identify = (control: net.Socket, line: string): void => {
    const m = WHO_LINE.exec(line);
    if (!m) return log(`the forwarder sent an unknown line: ${JSON.stringify(line.slice(0, 80))}`);
    const [, id, port] = m;
    void identifyCaller(Number(port), config.port, caller, hashes)
      .catch((e: Error): Caller => unidentifiedCaller(`the caller could not be identified (${e.message})`))
      .then((identity) => {
        if (!control.destroyed) control.write(`caller ${id} ${formatPreamble(secret, identity).trimEnd()}\n`);
      });
  };

  let closed = false;
  let stop: () => void = () => undefined;
  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      // An empty environment: the supervisor's holds the caller secret, which reaches the
      // forwarder only inside preambles.
      const child = spawn(config.program, ["--host", config.host, "--port", String(config.port), "--socket", config.socket, "--control-fd", "3"], {
        env: {},
        stdio: ["ignore", "inherit", "inherit", "pipe"],
      });
      const control = child.stdio[3] as net.Socket;
      let ready = false;
      let pending = "";
      control.on("error", () => undefined);
      control.on("data", (chunk: Buffer) => {
        pending += chunk.toString("utf8");
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line === "ready" && !ready) {
            ready = true;
            resolve();
          } else {
            identify(control, line);
          }
        }
      });
      stop = () => child.kill("SIGTERM");
      child.once("error", (e) => reject(new Error(`cannot start ${config.program}: ${e.message}`)));
      child.once("exit", (code, signal) => {
        if (!ready) return reject(new Error(`${config.program} exited (${signal ?? `code ${code}`}) before listening`));
        if (closed) return;
        log(`the egress forwarder exited (${signal ?? `code ${code}`}); starting it again in ${RESTART_DELAY_MS / 1000} s`);
        setTimeout(() => {
          if (!closed) launch().catch((e: Error) => log(`the egress forwarder did not start again: ${e.message}`));
        }, RESTART_DELAY_MS);
      });
    });

  return launch().then(() => ({
    close() {
      closed = true;
      stop();
    },
  }));
}
