// Measures the egress gateway against a baseline taken in the same run: direct client →
// upstream on 127.0.0.1 versus client → proxy socket → gateway → upstream. Used by
// egress.bench.ts (`npm run bench`), which prints the table.

import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import { DAEMON_NODE_FLAGS } from "../../blueprint/runtime/daemon-client.js";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { formatPreamble } from "../../blueprint/supervisor/caller-preamble.js";
import { connectTunnel, createTestCa, CURL, proxyAgent, startHttpsUpstream, startHttpUpstream, tempDir, TEST_CALLER_SECRET, testCallerSecretFile } from "../helpers/gateway-harness.js";
import type { TestCa, Upstream } from "../helpers/gateway-harness.js";
import { selfSignedCertificate, startCRelay, startFloorProxy } from "./egress-floor.js";
import type { FloorProxy } from "./egress-floor.js";
import { runLoad, startLoadStub } from "./egress-load.js";
import type { LoadStub } from "./egress-load.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");

interface GatewayProcess {
  pid: number;
  socketPath: string;
  caCertPem: string;
  /** Resolves once the gateway has swapped the policy. */
  setPolicy(yaml: string): Promise<void>;
  close(): Promise<void>;
}

let bundled: Promise<string> | undefined;

/** egress-gateway-process.ts bundled once per run, beside node_modules so its packages resolve. */
function gatewayProcessScript(): Promise<string> {
  bundled ??= (async () => {
    const outfile = path.join(repoRoot, "node_modules/.cache/nemoclaw-bench/egress-gateway-process.mjs");
    await build({ entryPoints: [path.join(here, "egress-gateway-process.ts")], bundle: true, platform: "node", format: "esm", packages: "external", outfile, logLevel: "warning" });
    return outfile;
  })();
  return bundled;
}

/**
 * Resident memory, in bytes: all of it, and the anonymous part. RSS counts the pages of the node
 * binary a process has touched (file-backed, clean, shared with every Node process); the
 * anonymous part is what the process holds of its own.
 */
export interface Memory {
  rss: number;
  anon: number;
}

/** A process's memory from /proc/<pid>/smaps_rollup (ours, same uid: readable). */
async function memoryOf(pid: number): Promise<Memory> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb("Rss"), anon: kb("Anonymous") };
}

/** Samples `pid`'s memory every 100 ms until the returned stop is called; resolves with the peaks. */
function peakMemory(pid: number): () => Promise<Memory> {
  const peak: Memory = { rss: 0, anon: 0 };
  const sample = (): Promise<void> =>
    memoryOf(pid).then((m) => {
      peak.rss = Math.max(peak.rss, m.rss);
      peak.anon = Math.max(peak.anon, m.anon);
    });
  const timer = setInterval(() => void sample().catch(() => undefined), 100);
  return async () => {
    clearInterval(timer);
    await sample();
    return peak;
  };
}

/**
 * The floor for any gateway written for Node: a bare Node process with the built-ins a proxy
 * needs (net, http, https, tls) loaded and a server listening, measured like the gateway.
 */
async function bareNodeMemory(): Promise<Memory> {
  const script = `import "node:http";import "node:https";import "node:tls";import net from "node:net";net.createServer().listen(0,()=>console.log("{}"));process.stdin.on("end",()=>process.exit(0)).resume();`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    await new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    return await memoryOf(child.pid ?? 0);
  } finally {
    child.stdin.end();
  }
}

/** The gateway in its own process (egress-gateway-process.ts, bundled), as the daemon runs it. */
async function startGatewayProcess(policyYaml: string, hostMap: Record<string, string>, upstreamCa: string): Promise<GatewayProcess> {
  const dir = await tempDir("nemoclaw-bench-");
  const socketPath = path.join(dir, "proxy.sock");
  const stateDir = path.join(dir, "state");
  const callerSecretFile = await testCallerSecretFile(stateDir);
  const child = spawn(
    process.execPath,
    [...(process.env.NEMOCLAW_BENCH_GATEWAY_FLAGS?.split(" ").filter(Boolean) ?? DAEMON_NODE_FLAGS), await gatewayProcessScript(), JSON.stringify({ socketPath, stateDir, callerSecretFile, policyYaml, hostMap, upstreamCa })],
    { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] },
  );
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  let ready: (message: Record<string, unknown>) => void = () => {};
  const readyMessage = new Promise<Record<string, unknown>>((resolve) => (ready = resolve));
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    if (message.ready === true) ready(message);
    else waiting.get(Number(message.id))?.(message);
  });
  let nextId = 1;
  const send = (op: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
    const id = nextId++;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ id, op, ...extra })}\n`);
    });
  };
  const { caCertPem } = (await readyMessage) as { caCertPem: string };
  return {
    pid: child.pid ?? 0,
    socketPath,
    caCertPem,
    setPolicy: async (yaml) => void (await send("setPolicy", { yaml })),
    close: async () => {
      await send("stop");
      await new Promise((resolve) => child.once("exit", resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface LatencyRow {
  name: string;
  p50: number;
  p99: number;
}

export interface EgressBenchResult {
  /** floor: the same client through the minimal Node proxy (egress-floor.ts), where it can carry the row. */
  latency: Array<{ what: string; direct: LatencyRow; proxied: LatencyRow; floor?: LatencyRow; relay?: LatencyRow }>;
  /** relay: the tunnel's bytes through a raw C relay (startCRelay), when socat is installed. */
  bulk: Array<{ what: string; directMBps: number; proxiedMBps: number; floorMBps?: number; relayMBps?: number }>;
  /** cpu: % of one core per process (client, stub, gateway or floor proxy) during each run. */
  concurrency: { directRps: number; proxiedRps: number; floorRps: number; connections: number; cpu: { direct: Record<string, number>; proxied: Record<string, number>; floor: Record<string, number> } };
  policyChange: { setPolicyP50Ms: number; revokeCloseP50Ms: number; revokeCloseMaxMs: number; allowFirstConnectP50Ms: number };
  /** floorLoad: the floor proxy's peak during its own load run. */
  rss: { idle: Memory; load: Memory; bareNode: Memory; floorLoad: Memory };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

function summarise(name: string, samples: number[]): LatencyRow {
  const sorted = [...samples].sort((a, b) => a - b);
  return { name, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** GET on an agent, resolves with the byte count once the body is read. */
function get(agent: http.Agent, options: https.RequestOptions, secure = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({ agent, ...options }, (res) => {
      let n = 0;
      res.on("data", (c: Buffer) => (n += c.length));
      res.on("end", () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end();
  });
}

async function timeSequential(count: number, run: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(200, count); i++) await run(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples;
}

/** An https.Agent whose connections are CONNECT tunnels through the proxy socket. */
function tunnelAgent(gw: { socketPath: string }, authority: string, servername: string, caPem: string): https.Agent {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: (o: unknown, cb: (e: Error | null, s?: net.Socket) => void) => undefined }).createConnection = (_o, cb) => {
    connectTunnel(gw.socketPath, CURL, authority).then(
      (t) => {
        if (t.status !== 200) return cb(new Error(`CONNECT ${t.status}`));
        const s = tls.connect({ socket: t.socket, servername, ca: caPem });
        s.once("secureConnect", () => cb(null, s));
        s.once("error", (e) => cb(e));
      },
      (e: Error) => cb(e),
    );
    return undefined;
  };
  return agent;
}

async function throughput(agent: http.Agent, options: https.RequestOptions, bytes: number, secure = false, prefix = ""): Promise<number> {
  await get(agent, { ...options, path: `${prefix}/bulk/${1024 * 1024}` }, secure);
  const started = performance.now();
  const n = await get(agent, { ...options, path: `${prefix}/bulk/${bytes}` }, secure);
  return n / 1e6 / ((performance.now() - started) / 1000);
}

export async function measureEgress(options: { samples?: number; bulkBytes?: number; bulkRounds?: number; loadMs?: number } = {}): Promise<EgressBenchResult> {
  const samples = options.samples ?? 2000;
  const bulkBytes = options.bulkBytes ?? 256 * 1024 * 1024;
  const bulkRounds = options.bulkRounds ?? 3;
  const loadMs = options.loadMs ?? 3000;
  const ca: TestCa = await createTestCa(await tempDir());
  const plain: Upstream = await startHttpUpstream();
  const secure: Upstream = await startHttpsUpstream(ca);
  // The requests/s row's upstream, in a process of its own (egress-load.ts).
  const loadStub: LoadStub = await startLoadStub();
  // Upstream echo servers keep every request they saw; the bench does not need them.
  const forget = setInterval(() => {
    plain.seen.length = 0;
    secure.seen.length = 0;
  }, 200);
  const policyYaml = (withB: boolean): string => `
version: 1
network_policies:
  plain:
    endpoints:
      - { host: plain.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
      - { host: tunnel.example.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }
      - { host: load.example.test, port: ${loadStub.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]
  inspected:
    endpoints:
      - { host: l7.example.test, port: ${secure.port}, protocol: rest, enforcement: enforce, access: read-only, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]
${withB ? `  b:\n    endpoints: [{ host: b.example.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }]\n    binaries: [{ path: /usr/bin/curl }]\n` : ""}`;
  const hostMap = { "plain.example.test": "127.0.0.1", "tunnel.example.test": "127.0.0.1", "load.example.test": "127.0.0.1", "l7.example.test": "127.0.0.1", "b.example.test": "127.0.0.1" };
  const gw = await startGatewayProcess(
    policyYaml(true),
    hostMap,
    ca.certPem,
  );
  let floor: FloorProxy | undefined;
  const relay = await startCRelay(secure.port);
  try {
    const floorCert = await selfSignedCertificate("l7.example.test");
    floor = await startFloorProxy(
      path.join(path.dirname(gw.socketPath), "floor.sock"),
      hostMap,
      { hosts: ["l7.example.test"], ...floorCert, upstreamCa: ca.certPem },
      process.env.NEMOCLAW_BENCH_GATEWAY_FLAGS?.split(" ").filter(Boolean) ?? DAEMON_NODE_FLAGS,
    );
    const rssIdle = await memoryOf(gw.pid);
    const plainHost = `plain.example.test:${plain.port}`;
    const directHttp = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const proxiedHttp = proxyAgent(gw.socketPath, CURL);
    const floorHttp = proxyAgent(floor.socketPath, CURL);
    const directHttps = new https.Agent({ keepAlive: true, maxSockets: 1, ca: ca.certPem, servername: "tunnel.example.test" } as https.AgentOptions);
    const tunnelled = tunnelAgent(gw, `tunnel.example.test:${secure.port}`, "tunnel.example.test", ca.certPem);
    const floorTunnelled = tunnelAgent(floor, `tunnel.example.test:${secure.port}`, "tunnel.example.test", ca.certPem);
    const l7 = tunnelAgent(gw, `l7.example.test:${secure.port}`, "l7.example.test", gw.caCertPem);
    const floorL7 = tunnelAgent(floor, `l7.example.test:${secure.port}`, "l7.example.test", floorCert.cert);
    const relayed = relay && new https.Agent({ keepAlive: true, maxSockets: 1, ca: ca.certPem, servername: "tunnel.example.test" } as https.AgentOptions);
    const relayOpts = { host: "127.0.0.1", port: relay?.port ?? 0, servername: "tunnel.example.test" };
    const directL7 = new https.Agent({ keepAlive: true, maxSockets: 1, ca: ca.certPem, servername: "l7.example.test" } as https.AgentOptions);

    const directOpts = { host: "127.0.0.1", port: plain.port, path: "/small", headers: { host: plainHost } };
    const proxiedOpts = { path: `http://${plainHost}/small`, headers: { host: plainHost } };
    const latency = [
      {
        what: "HTTP (absolute-form)",
        direct: summarise("direct", await timeSequential(samples, () => get(directHttp, directOpts))),
        proxied: summarise("proxied", await timeSequential(samples, () => get(proxiedHttp, proxiedOpts))),
        floor: summarise("floor", await timeSequential(samples, () => get(floorHttp, proxiedOpts))),
      },
      {
        what: "HTTPS via CONNECT tunnel",
        direct: summarise("direct", await timeSequential(samples, () => get(directHttps, { host: "127.0.0.1", port: secure.port, path: "/small", servername: "tunnel.example.test" }, true))),
        proxied: summarise("proxied", await timeSequential(samples, () => get(tunnelled, { host: "tunnel.example.test", port: secure.port, path: "/small" }, true))),
        floor: summarise("floor", await timeSequential(samples, () => get(floorTunnelled, { host: "tunnel.example.test", port: secure.port, path: "/small" }, true))),
        ...(relayed ? { relay: summarise("relay", await timeSequential(samples, () => get(relayed, { ...relayOpts, path: "/small" }, true))) } : {}),
      },
      {
        what: "HTTPS with L7 (terminated)",
        direct: summarise("direct", await timeSequential(samples, () => get(directL7, { host: "127.0.0.1", port: secure.port, path: "/small", servername: "l7.example.test" }, true))),
        proxied: summarise("proxied", await timeSequential(samples, () => get(l7, { host: "l7.example.test", port: secure.port, path: "/small" }, true))),
        floor: summarise("floor", await timeSequential(samples, () => get(floorL7, { host: "l7.example.test", port: secure.port, path: "/small" }, true))),
      },
    ];

    // Each bulk row's runs alternate over rounds, the first run of each round rotating, and the
    // median is kept: one run each in a fixed order reads the client warming up as a difference.
    const interleaved = async (runs: Record<string, () => Promise<number>>): Promise<Record<string, number>> => {
      const turns = Object.entries(runs).map(([name, run]) => ({ name, run, seen: [] as number[] }));
      for (let round = 0; round < bulkRounds; round++) {
        for (let i = 0; i < turns.length; i++) {
          const turn = turns[(i + round) % turns.length];
          turn?.seen.push(await turn.run());
        }
      }
      return Object.fromEntries(turns.map((t) => [t.name, percentile(t.seen.sort((a, b) => a - b), 50)]));
    };
    const tunnelOpts = { host: "tunnel.example.test", port: secure.port };
    const bulkHttp = await interleaved({
      direct: () => throughput(directHttp, directOpts, bulkBytes),
      proxied: () => throughput(proxiedHttp, proxiedOpts, bulkBytes, false, `http://${plainHost}`),
      floor: () => throughput(floorHttp, proxiedOpts, bulkBytes, false, `http://${plainHost}`),
    });
    const bulkTunnel = await interleaved({
      direct: () => throughput(directHttps, { host: "127.0.0.1", port: secure.port, servername: "tunnel.example.test" }, bulkBytes, true),
      proxied: () => throughput(tunnelled, tunnelOpts, bulkBytes, true),
      floor: () => throughput(floorTunnelled, tunnelOpts, bulkBytes, true),
      ...(relayed ? { relay: () => throughput(relayed, relayOpts, bulkBytes, true) } : {}),
    });
    const bulkL7 = await interleaved({
      direct: () => throughput(directL7, { host: "127.0.0.1", port: secure.port, servername: "l7.example.test" }, bulkBytes, true),
      proxied: () => throughput(l7, { host: "l7.example.test", port: secure.port }, bulkBytes, true),
      floor: () => throughput(floorL7, { host: "l7.example.test", port: secure.port }, bulkBytes, true),
    });
    const bulk = [
      { what: "HTTP download", directMBps: bulkHttp.direct ?? Number.NaN, proxiedMBps: bulkHttp.proxied ?? Number.NaN, floorMBps: bulkHttp.floor ?? Number.NaN },
      {
        what: "HTTPS via CONNECT tunnel",
        directMBps: bulkTunnel.direct ?? Number.NaN,
        proxiedMBps: bulkTunnel.proxied ?? Number.NaN,
        floorMBps: bulkTunnel.floor ?? Number.NaN,
        ...(bulkTunnel.relay === undefined ? {} : { relayMBps: bulkTunnel.relay }),
      },
      { what: "HTTPS with L7 (terminated)", directMBps: bulkL7.direct ?? Number.NaN, proxiedMBps: bulkL7.proxied ?? Number.NaN, floorMBps: bulkL7.floor ?? Number.NaN },
    ];

    const connections = 64;
    const loadTarget = { host: `load.example.test:${loadStub.port}`, path: "/small" };
    const direct = await runLoad({ ...loadTarget, port: loadStub.port }, connections, loadMs, { stub: loadStub.pid });
    let stopSampling = peakMemory(gw.pid);
    const proxied = await runLoad({ ...loadTarget, socketPath: gw.socketPath, preamble: formatPreamble(TEST_CALLER_SECRET, CURL) }, connections, loadMs, { gateway: gw.pid, stub: loadStub.pid });
    const rssLoad = await stopSampling();
    stopSampling = peakMemory(floor.pid);
    const floorLoad = await runLoad({ ...loadTarget, socketPath: floor.socketPath, preamble: formatPreamble(TEST_CALLER_SECRET, CURL) }, connections, loadMs, { floor: floor.pid, stub: loadStub.pid });
    const rssFloorLoad = await stopSampling();

    // Policy change → enforcement: revoking closes an open tunnel; allowing admits the next CONNECT.
    const setTimes: number[] = [];
    const closeTimes: number[] = [];
    const allowTimes: number[] = [];
    const withB = policyYaml(true);
    const withoutB = policyYaml(false);
    for (let i = 0; i < 50; i++) {
      let started = performance.now();
      await gw.setPolicy(withB);
      setTimes.push(performance.now() - started);
      const t = await connectTunnel(gw.socketPath, CURL, `b.example.test:${secure.port}`);
      allowTimes.push(performance.now() - started);
      if (t.status !== 200) throw new Error(`tunnel to b refused after allowing it: ${t.text}`);
      const closed = new Promise<number>((resolve) => t.socket.once("close", () => resolve(performance.now())));
      started = performance.now();
      await gw.setPolicy(withoutB);
      setTimes.push(performance.now() - started);
      closeTimes.push((await closed) - started);
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

    for (const a of [directHttp, proxiedHttp, floorHttp, directHttps, tunnelled, floorTunnelled, l7, floorL7, directL7, relayed]) a?.destroy();
    return {
      latency,
      bulk,
      concurrency: { directRps: direct.rps, proxiedRps: proxied.rps, floorRps: floorLoad.rps, connections, cpu: { direct: direct.cpu, proxied: proxied.cpu, floor: floorLoad.cpu } },
      policyChange: {
        setPolicyP50Ms: percentile(sorted(setTimes), 50),
        revokeCloseP50Ms: percentile(sorted(closeTimes), 50),
        revokeCloseMaxMs: Math.max(...closeTimes),
        allowFirstConnectP50Ms: percentile(sorted(allowTimes), 50),
      },
      rss: { idle: rssIdle, load: rssLoad, bareNode: await bareNodeMemory(), floorLoad: rssFloorLoad },
    };
  } finally {
    clearInterval(forget);
    await gw.close();
    await floor?.close();
    await relay?.close();
    await plain.close();
    await secure.close();
    await loadStub.close();
  }
}
