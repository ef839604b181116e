// `npm run bench`: the inference router against the same stub model server reached directly,
// both measured in this run (router, stub and client share this process, so the numbers are the
// router's own added cost, not the egress path's). Prints time to first token, per-chunk latency
// and a 64-way concurrent streaming run, then vitest's comparison of the TTFT hot path.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { test } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { InferenceRouter } from "../../blueprint/inference/router.js";
import { serveInferenceRouter } from "../../blueprint/inference/serve.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

interface Target {
  port: number;
  path: string;
  host: string;
}

interface Streamed {
  ttft: number;
  /** Each content chunk's arrival minus the time the stub wrote it. */
  chunkLags: number[];
  text: string;
}

function stream(agent: http.Agent, t: Target, stub: StubServer): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const body = JSON.stringify({ model: "routed", stream: true, messages: [{ role: "user", content: "hi" }] });
    const before = stub.requests.length;
    const req = http.request({ agent, host: "127.0.0.1", port: t.port, path: t.path, method: "POST", headers: { host: t.host, "content-type": "application/json", "content-length": Buffer.byteLength(body) } });
    req.on("response", (res) => {
      let ttft = -1;
      const arrivals: Array<{ at: number; upTo: number }> = [];
      let text = "";
      res.on("data", (c: Buffer) => {
        const now = performance.now();
        if (ttft < 0) ttft = now - started;
        text += c.toString("utf8");
        arrivals.push({ at: now, upTo: text.length });
      });
      res.on("end", () => {
        const sent = stub.requests.slice(before).find((r) => r.chunkTimes.length > 0)?.chunkTimes ?? [];
        // Content chunk i is the stub's i-th write; it arrived with the first read that contains it.
        const lags: number[] = [];
        for (let i = 0; i < (stub.options.chunks ?? 5); i++) {
          const at = text.indexOf(`openai-${i} `);
          const arrival = arrivals.find((a) => a.upTo > at);
          const wrote = sent[i];
          if (at >= 0 && arrival !== undefined && wrote !== undefined) lags.push(arrival.at - wrote);
        }
        resolve({ ttft, chunkLags: lags, text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const ms = (x: number) => `${x.toFixed(3)} ms`;

async function series(n: number, agent: http.Agent, t: Target, stub: StubServer): Promise<Streamed[]> {
  const out: Streamed[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await stream(agent, t, stub));
    if (stub.requests.length > 1000) stub.requests.length = 0;
  }
  return out;
}

test("inference router: TTFT, chunk latency, 64-way streaming", async ({ bench }) => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-inference-bench-"));
  const stub = await startStub("openai", { chunks: 3, toolCall: false });
  const credentials = new CredentialStore(stateDir);
  await credentials.add({ name: "openai", secret: "sk-bench" });
  const router = new InferenceRouter({ stateDir, credentials });
  await router.routes.set("bench", { provider: "openai", model: "stub-model", baseUrl: stub.baseUrl });
  const served = await serveInferenceRouter(router, "bench");
  const direct: Target = { port: stub.port, path: "/v1/chat/completions", host: `127.0.0.1:${stub.port}` };
  const routed: Target = { port: served.port, path: "/v1/chat/completions", host: "inference.local" };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const lines = ["Inference router benchmark (router, stub and client in one process; direct baseline measured in the same run)", ""];
  try {
    // Warm-up: JIT, pooled connections on both legs.
    await series(50, agent, direct, stub);
    await series(50, agent, routed, stub);

    const n = 400;
    const d: Streamed[] = [];
    const r: Streamed[] = [];
    // Interleaved, so drift on a shared machine hits both sides alike.
    for (let i = 0; i < n; i++) {
      d.push(await stream(agent, direct, stub));
      r.push(await stream(agent, routed, stub));
      if (stub.requests.length > 1000) stub.requests.length = 0;
    }
    const dt = d.map((x) => x.ttft);
    const rt = r.map((x) => x.ttft);
    lines.push(
      `  Time to first token (${n} streams each, sequential, kept-alive):`,
      `    direct  p50 ${ms(pct(dt, 50))} p99 ${ms(pct(dt, 99))}`,
      `    router  p50 ${ms(pct(rt, 50))} p99 ${ms(pct(rt, 99))}`,
      `    added   p50 ${ms(pct(rt, 50) - pct(dt, 50))} (goal ≤ 2 ms); ratio ${(pct(rt, 50) / pct(dt, 50)).toFixed(2)}×`,
    );

    stub.options.chunks = 20;
    stub.options.chunkDelayMs = 10;
    const dl = (await series(10, agent, direct, stub)).flatMap((x) => x.chunkLags);
    const rl = (await series(10, agent, routed, stub)).flatMap((x) => x.chunkLags);
    lines.push(
      "",
      "  Chunk latency (stub wrote the chunk → client read it; 20 chunks 10 ms apart, 10 streams):",
      `    direct  p50 ${ms(pct(dl, 50))} p99 ${ms(pct(dl, 99))} (${dl.length} chunks)`,
      `    router  p50 ${ms(pct(rl, 50))} p99 ${ms(pct(rl, 99))} (${rl.length} chunks)`,
    );

    stub.options.chunkDelayMs = 5;
    stub.requests.length = 0;
    const concurrent = async (t: Target) => {
      const start = performance.now();
      const results = await Promise.all(Array.from({ length: 64 }, () => stream(agent, t, stub)));
      const complete = results.filter((x) => x.text.includes("data: [DONE]") && Array.from({ length: 20 }, (_, i) => x.text.includes(`openai-${i} `)).every(Boolean)).length;
      return { ms: performance.now() - start, complete };
    };
    const cd = await concurrent(direct);
    const cr = await concurrent(routed);
    lines.push(
      "",
      "  64 concurrent streams (20 chunks 5 ms apart each):",
      `    direct  ${cd.complete}/64 complete in ${ms(cd.ms)}`,
      `    router  ${cr.complete}/64 complete in ${ms(cr.ms)}; ratio ${(cr.ms / cd.ms).toFixed(2)}×${cr.complete === 64 ? "" : "  ← DROPPED STREAMS"}`,
    );
    console.log(`\n${lines.join("\n")}\n`);
    if (cr.complete !== 64) throw new Error(`only ${cr.complete}/64 routed streams completed`);

    stub.options.chunks = 3;
    stub.options.chunkDelayMs = 0;
    await bench.compare(
      bench("TTFT direct", async () => {
        await stream(agent, direct, stub);
        stub.requests.length = 0;
      }),
      bench("TTFT through the router", async () => {
        await stream(agent, routed, stub);
        stub.requests.length = 0;
      }),
    );
  } finally {
    agent.destroy();
    await served.close();
    await router.close();
    await stub.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}, 600_000);
