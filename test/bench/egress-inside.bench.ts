// `npm run bench`: the same small-GET client (sequential GETs on one kept-alive connection), and
// then the same bulk-download client, each run three ways in one run, each against a direct run of the same client on the host measured
// right before it:
//   - inside a real nemoclaw sandbox: forwarder (127.0.0.1:3128) → proxy socket → host daemon's
//     gateway → stub on the host's 127.0.0.1, reached through the gateway's hostMap. The daemon is
//     the built one, spawned as every verb spawns it (its own process, the daemon's Node flags),
//     not one in this test's thread beside the stub;
//   - under Anthropic's sandbox-runtime (`srt`, bubblewrap + its host proxies), allowed to reach
//     the same stub by its address literal (egress-srt.ts installs and runs it).
// Prints the added p50 of each and their ratio. No timed assertions: the goals are read off it.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "vitest";
import { ensureDaemon, stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { createSandboxHarness } from "../helpers/docker-sandbox.js";
import { startHttpUpstream } from "../helpers/gateway-harness.js";
import { repoRoot } from "../helpers/node24.js";
import { runUnderSrt } from "./egress-srt.js";

const SAMPLES = 2000;

/** What both clients share: argv (proxy URL, "" for none; target URL; count) and the request options. */
const CLIENT_OPTIONS = `
const http = require("node:http");
const [proxyUrl, target, count] = process.argv.slice(-3); // -e puts them at argv[1], a script file at argv[2]
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const t = new URL(target);
const p = proxyUrl === "" ? undefined : new URL(proxyUrl);
const auth = p && p.username ? { "proxy-authorization": "Basic " + Buffer.from(decodeURIComponent(p.username) + ":" + decodeURIComponent(p.password)).toString("base64") } : {};
const opts = p
  ? { agent, host: p.hostname, port: Number(p.port), path: target, headers: { host: t.host, ...auth } }
  : { agent, host: t.hostname, port: Number(t.port), path: t.pathname, headers: { host: t.host } };
`;

/** The small-GET client: sequential GETs on one kept-alive connection. Prints {p50, p99} in ms. */
export const SMALL_GET_CLIENT = `${CLIENT_OPTIONS}
const once = () => new Promise((resolve, reject) => http.get(opts, (r) => { r.resume(); r.on("end", () => r.statusCode === 200 ? resolve() : reject(new Error("status " + r.statusCode))); }).on("error", reject));
(async () => {
  for (let i = 0; i < 200; i++) await once();
  const xs = [];
  for (let i = 0; i < Number(count); i++) { const s = performance.now(); await once(); xs.push(performance.now() - s); }
  xs.sort((a, b) => a - b);
  console.log(JSON.stringify({ p50: xs[Math.floor(xs.length / 2)], p99: xs[Math.floor(xs.length * 0.99)] }));
})().catch((e) => { console.log(JSON.stringify({ error: String(e.message) })); process.exit(1); });
`;

/** The bulk client: \`count\` sequential downloads of the target (one warm-up first). Prints {mbps}: the median, MB/s. */
export const BULK_CLIENT = `${CLIENT_OPTIONS}
const once = () => new Promise((resolve, reject) => { const s = performance.now(); let n = 0; http.get(opts, (r) => { r.on("data", (c) => (n += c.length)); r.on("end", () => r.statusCode === 200 ? resolve(n / 1e6 / ((performance.now() - s) / 1000)) : reject(new Error("status " + r.statusCode))); }).on("error", reject); });
(async () => {
  await once();
  const xs = [];
  for (let i = 0; i < Number(count); i++) xs.push(await once());
  xs.sort((a, b) => a - b);
  console.log(JSON.stringify({ mbps: xs[Math.floor(xs.length / 2)] }));
})().catch((e) => { console.log(JSON.stringify({ error: String(e.message) })); process.exit(1); });
`;

const BULK_BYTES = 64 * 1024 * 1024;
const BULK_RUNS = 5;

/** The client's one JSON line, holding every key of `keys`. */
function parseRun(stdout: string, keys: readonly string[], what: string): Record<string, number> {
  const line = stdout.trim().split("\n").pop() ?? "";
  const r = JSON.parse(line || "{}") as Record<string, number> & { error?: string };
  if (!keys.every((k) => typeof r[k] === "number")) throw new Error(`${what}: ${r.error ?? stdout}`);
  return r;
}

function onHost(client: string, target: string, count: number, keys: readonly string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", client, "", target, String(count)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.once("error", reject);
    child.once("close", () => {
      try {
        resolve(parseRun(out, keys, "direct client"));
      } catch (e) {
        reject(e);
      }
    });
  });
}

test("small GET and bulk download from inside a sandbox vs direct, nemoclaw and srt side by side", async () => {
  const h = await createSandboxHarness({ daemon: false });
  const upstream = await startHttpUpstream();
  const forget = setInterval(() => (upstream.seen.length = 0), 200);
  try {
    await writeFile(path.join(h.stateDir, "egress.json"), JSON.stringify({ hostMap: { "api.bench.test": "127.0.0.1" } }));
    await ensureDaemon(h.stateDir);
    const base = await readFile(path.join(repoRoot, "policies/openclaw-sandbox.yaml"), "utf8");
    const policyFile = path.join(h.stateDir, "bench-policy.yaml");
    await writeFile(
      policyFile,
      `${base}\n  bench:\n    endpoints:\n      - { host: api.bench.test, port: ${upstream.port}, allowed_ips: [127.0.0.1/32] }\n    binaries: [{ path: /usr/local/bin/node }]\n`,
    );
    const { name } = await h.create("bench-inside", { policyFile });
    const direct = `http://127.0.0.1:${upstream.port}`;
    const viaGateway = `http://api.bench.test:${upstream.port}`;
    const inside = async (client: string, urlPath: string, count: number, keys: readonly string[]) => {
      const r = await h.exec(name, ["node", "-e", client, "http://127.0.0.1:3128", `${viaGateway}${urlPath}`, String(count)]);
      return parseRun(r.stdout + r.stderr, keys, "client inside the sandbox");
    };
    const LATENCY = ["p50", "p99"] as const;
    const bulkPath = `/bulk/${BULK_BYTES}`;

    const directA = await onHost(SMALL_GET_CLIENT, `${direct}/small`, SAMPLES, LATENCY);
    const nemo = await inside(SMALL_GET_CLIENT, "/small", SAMPLES, LATENCY);
    const directB = await onHost(SMALL_GET_CLIENT, `${direct}/small`, SAMPLES, LATENCY);
    const srt = await runUnderSrt(SMALL_GET_CLIENT, upstream.port, "/small", SAMPLES, LATENCY);
    const bulkDirectA = await onHost(BULK_CLIENT, `${direct}${bulkPath}`, BULK_RUNS, ["mbps"]);
    const bulkNemo = await inside(BULK_CLIENT, bulkPath, BULK_RUNS, ["mbps"]);
    const bulkDirectB = await onHost(BULK_CLIENT, `${direct}${bulkPath}`, BULK_RUNS, ["mbps"]);
    const bulkSrt = await runUnderSrt(BULK_CLIENT, upstream.port, bulkPath, BULK_RUNS, ["mbps"]);

    const ms = (x: number | undefined) => `${(x ?? NaN).toFixed(3)} ms`;
    const mbps = (x: number | undefined) => `${(x ?? NaN).toFixed(0)} MB/s`;
    const addedNemo = nemo.p50! - directA.p50!;
    const lines = [
      "",
      `Small GET from inside a sandbox (${SAMPLES} sequential GETs on one kept-alive connection; stub on the host's 127.0.0.1; direct = same client on the host, run just before)`,
      "",
      `  nemoclaw (forwarder → proxy socket → gateway): direct p50 ${ms(directA.p50)} | inside p50 ${ms(nemo.p50)} p99 ${ms(nemo.p99)} | added p50 ${ms(addedNemo)} (goal ≤ 0.300 ms)`,
    ];
    if (srt.ok) {
      const addedSrt = srt.run.p50! - directB.p50!;
      lines.push(
        `  srt ${srt.version} (bubblewrap → socat → its HTTP proxy): direct p50 ${ms(directB.p50)} | inside p50 ${ms(srt.run.p50)} p99 ${ms(srt.run.p99)} | added p50 ${ms(addedSrt)}`,
        `  srt added / nemoclaw added: ${(addedSrt / addedNemo).toFixed(2)}× (goal ≥ 5×)`,
      );
    } else {
      lines.push(`  srt: not run — ${srt.reason}`);
    }
    lines.push(
      "",
      `Bulk download from inside a sandbox (${BULK_BYTES / 1024 / 1024} MB plain HTTP, median of ${BULK_RUNS}; direct = same client on the host, run just before)`,
      "",
      `  nemoclaw: direct ${mbps(bulkDirectA.mbps)} | inside ${mbps(bulkNemo.mbps)} | ratio ${(bulkNemo.mbps! / bulkDirectA.mbps!).toFixed(2)}×`,
      bulkSrt.ok
        ? `  srt ${bulkSrt.version}: direct ${mbps(bulkDirectB.mbps)} | inside ${mbps(bulkSrt.run.mbps)} | ratio ${(bulkSrt.run.mbps! / bulkDirectB.mbps!).toFixed(2)}×`
        : `  srt: not run — ${bulkSrt.reason}`,
    );
    console.log(`${lines.join("\n")}\n`);
  } finally {
    clearInterval(forget);
    await h.dispose();
    await stopDaemon(h.stateDir);
    await upstream.close();
  }
}, 900_000);
