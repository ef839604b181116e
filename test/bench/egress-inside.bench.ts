// `npm run bench`: the same small-GET client (sequential GETs on one kept-alive connection)
// run three ways in one run, each against a direct run of the same client on the host measured
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

/** The client: plain Node, no dependencies. argv: proxy URL ("" for none), target URL, count. Prints {p50, p99} in ms. */
export const SMALL_GET_CLIENT = `
const http = require("node:http");
const [proxyUrl, target, count] = process.argv.slice(-3); // -e puts them at argv[1], a script file at argv[2]
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const t = new URL(target);
const p = proxyUrl === "" ? undefined : new URL(proxyUrl);
const auth = p && p.username ? { "proxy-authorization": "Basic " + Buffer.from(decodeURIComponent(p.username) + ":" + decodeURIComponent(p.password)).toString("base64") } : {};
const opts = p
  ? { agent, host: p.hostname, port: Number(p.port), path: target, headers: { host: t.host, ...auth } }
  : { agent, host: t.hostname, port: Number(t.port), path: t.pathname, headers: { host: t.host } };
const once = () => new Promise((resolve, reject) => http.get(opts, (r) => { r.resume(); r.on("end", () => r.statusCode === 200 ? resolve() : reject(new Error("status " + r.statusCode))); }).on("error", reject));
(async () => {
  for (let i = 0; i < 200; i++) await once();
  const xs = [];
  for (let i = 0; i < Number(count); i++) { const s = performance.now(); await once(); xs.push(performance.now() - s); }
  xs.sort((a, b) => a - b);
  console.log(JSON.stringify({ p50: xs[Math.floor(xs.length / 2)], p99: xs[Math.floor(xs.length * 0.99)] }));
})().catch((e) => { console.log(JSON.stringify({ error: String(e.message) })); process.exit(1); });
`;

interface Run {
  p50: number;
  p99: number;
}

function parseRun(stdout: string, what: string): Run {
  const line = stdout.trim().split("\n").pop() ?? "";
  const r = JSON.parse(line || "{}") as Partial<Run> & { error?: string };
  if (r.p50 === undefined || r.p99 === undefined) throw new Error(`${what}: ${r.error ?? stdout}`);
  return { p50: r.p50, p99: r.p99 };
}

function onHost(target: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", SMALL_GET_CLIENT, "", target, String(SAMPLES)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.once("error", reject);
    child.once("close", () => {
      try {
        resolve(parseRun(out, "direct client"));
      } catch (e) {
        reject(e);
      }
    });
  });
}

test("small GET from inside a sandbox vs direct, nemoclaw and srt side by side", async () => {
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

    const directA = await onHost(`http://127.0.0.1:${upstream.port}/small`);
    const r = await h.exec(name, ["node", "-e", SMALL_GET_CLIENT, "http://127.0.0.1:3128", `http://api.bench.test:${upstream.port}/small`, String(SAMPLES)]);
    const inside = parseRun(r.stdout + r.stderr, "client inside the sandbox");
    const directB = await onHost(`http://127.0.0.1:${upstream.port}/small`);
    const srt = await runUnderSrt(SMALL_GET_CLIENT, upstream.port, SAMPLES);

    const ms = (x: number) => `${x.toFixed(3)} ms`;
    const addedNemo = inside.p50 - directA.p50;
    const lines = [
      "",
      `Small GET from inside a sandbox (${SAMPLES} sequential GETs on one kept-alive connection; stub on the host's 127.0.0.1; direct = same client on the host, run just before)`,
      "",
      `  nemoclaw (forwarder → proxy socket → gateway): direct p50 ${ms(directA.p50)} | inside p50 ${ms(inside.p50)} p99 ${ms(inside.p99)} | added p50 ${ms(addedNemo)} (goal ≤ 0.300 ms)`,
    ];
    if (srt.ok) {
      const addedSrt = srt.run.p50 - directB.p50;
      lines.push(
        `  srt ${srt.version} (bubblewrap → socat → its HTTP proxy): direct p50 ${ms(directB.p50)} | inside p50 ${ms(srt.run.p50)} p99 ${ms(srt.run.p99)} | added p50 ${ms(addedSrt)}`,
        `  srt added / nemoclaw added: ${(addedSrt / addedNemo).toFixed(2)}× (goal ≥ 5×)`,
      );
    } else {
      lines.push(`  srt: not run — ${srt.reason}`);
    }
    console.log(`${lines.join("\n")}\n`);
  } finally {
    clearInterval(forget);
    await h.dispose();
    await stopDaemon(h.stateDir);
    await upstream.close();
  }
}, 900_000);
