// The requests/s row of egress-measure.ts: a stub upstream and a load client (N kept-alive
// connections) each in a process of its own, so neither shares a thread with the bench runner or
// with each other, and the direct baseline (client → stub) and the proxied run (client → proxy
// socket → gateway → stub) are measured the same way. Both are plain Node scripts (node:
// built-ins only, run with `-e`); the client reports its count once the window has passed, and
// the CPU each process used in the window is read from /proc/<pid>/stat.

import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

/** The stub: what the harness's upstream answers to a small GET (its request echoed as JSON, kept alive). Prints {port}; exits when stdin closes. */
const STUB = `
const http = require("node:http");
const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const json = JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, body });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
    res.end(json);
  });
});
server.on("connection", (s) => s.setNoDelay(true));
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
process.stdin.on("end", () => process.exit(0)).resume();
`;

/**
 * The client: \`connections\` keep-alive agents of one socket each, every one sending GETs back to
 * back until \`ms\` has passed; either to 127.0.0.1:port (origin-form) or to the proxy socket,
 * each connection opening with the caller preamble (absolute-form). Prints {started}, then
 * {rps, count}; exits when stdin closes, so its /proc entry outlives the window.
 */
const CLIENT = `
const http = require("node:http");
const net = require("node:net");
const c = JSON.parse(process.argv[process.argv.length - 1]);
const agents = Array.from({ length: c.connections }, () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  if (c.socketPath) agent.createConnection = () => { const s = net.connect(c.socketPath); s.write(c.preamble); return s; };
  return agent;
});
const options = c.socketPath ? { path: "http://" + c.host + c.path, headers: { host: c.host } } : { host: "127.0.0.1", port: c.port, path: c.path, headers: { host: c.host } };
const get = (agent) => new Promise((resolve, reject) => {
  const req = http.request({ agent, ...options }, (res) => {
    let n = 0;
    res.on("data", (b) => (n += b.length));
    res.on("end", () => (res.statusCode === 200 ? resolve(n) : reject(new Error("status " + res.statusCode))));
  });
  req.on("error", reject);
  req.end();
});
process.stdin.on("end", () => process.exit(0)).resume();
(async () => {
  console.log(JSON.stringify({ started: true }));
  let count = 0;
  const until = performance.now() + c.ms;
  await Promise.all(agents.map(async (agent) => { while (performance.now() < until) { await get(agent); count++; } }));
  for (const a of agents) a.destroy();
  console.log(JSON.stringify({ rps: count / (c.ms / 1000), count }));
})().catch((e) => { console.log(JSON.stringify({ error: String(e && e.message) })); process.exit(1); });
`;

type Child = ChildProcessByStdio<Writable, Readable, null>;

/** Runs `script` with `-e`; resolves with the child and a reader of its JSON lines. */
function spawnScript(script: string, arg = ""): { child: Child; next: () => Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, ["-e", script, arg], { stdio: ["pipe", "pipe", "inherit"] });
  const queued: Array<Record<string, unknown>> = [];
  const waiting: Array<(m: Record<string, unknown>) => void> = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(message);
    else queued.push(message);
  });
  child.once("exit", (code) => {
    for (const w of waiting.splice(0)) w({ error: `exited with ${code}` });
  });
  const next = (): Promise<Record<string, unknown>> => {
    const m = queued.shift();
    return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
  };
  return { child, next };
}

function stopChild(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdin.end();
  return exited;
}

export interface LoadStub {
  port: number;
  pid: number;
  close(): Promise<void>;
}

export async function startLoadStub(): Promise<LoadStub> {
  const { child, next } = spawnScript(STUB);
  const m = await next();
  if (typeof m.port !== "number") throw new Error(`load stub: ${String(m.error ?? JSON.stringify(m))}`);
  return { port: m.port, pid: child.pid ?? 0, close: () => stopChild(child) };
}

/** Where the client sends its GETs: the stub itself, or the proxy socket with the caller preamble each connection opens with. */
export type LoadTarget = { host: string; path: string } & ({ port: number } | { socketPath: string; preamble: string });

/** CPU time (user + system) of `pid` so far, in ms; NaN without /proc. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 (state) on
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return Number.NaN;
  }
}

export interface LoadRun {
  rps: number;
  /** CPU used during the window by the client and each of `watch`, in % of one core. */
  cpu: Record<string, number>;
}

/** One run of the load client against `target` for `ms`; `watch` names the other processes whose CPU to report. */
export async function runLoad(target: LoadTarget, connections: number, ms: number, watch: Record<string, number>, onTick?: () => void): Promise<LoadRun> {
  const { child, next } = spawnScript(CLIENT, JSON.stringify({ ...target, connections, ms }));
  try {
    const pids: Record<string, number> = { client: child.pid ?? 0, ...watch };
    const started = await next();
    if (started.started !== true) throw new Error(`load client: ${String(started.error ?? JSON.stringify(started))}`);
    const t0 = performance.now();
    const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
    const timer = setInterval(() => onTick?.(), 100);
    const done = await next().finally(() => clearInterval(timer));
    const wall = performance.now() - t0;
    if (typeof done.rps !== "number") throw new Error(`load client: ${String(done.error ?? JSON.stringify(done))}`);
    const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, ((cpuMs(pid) - (before[name] ?? Number.NaN)) / wall) * 100]));
    return { rps: done.rps, cpu };
  } finally {
    await stopChild(child);
  }
}
