// The inference router over real sockets: a client on 127.0.0.1 speaking to the router mounted
// on a plain HTTP server (as the egress gateway will hand it requests for inference.local), and
// stub model servers on 127.0.0.1 as the providers. Timing assertions compare arrival order with
// the stub's own send times, never absolute durations.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { inferenceLogFile, readInferenceEvents } from "../../blueprint/inference/audit.js";
import { InferenceRouter } from "../../blueprint/inference/router.js";
import { serveInferenceRouter, type ServedRouter } from "../../blueprint/inference/serve.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const REAL_OPENAI = "sk-REAL-openai-key-do-not-leak-0123456789abcdef";
const REAL_ANTHROPIC = "sk-ant-REAL-anthropic-key-do-not-leak-0123456789";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** performance.now() at each body chunk's arrival, with the chunk. */
  arrivals: Array<{ at: number; text: string }>;
}

function call(router: ServedRouter, opts: { method?: string; path: string; body?: unknown; headers?: Record<string, string> }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request({
      host: "127.0.0.1",
      port: router.port,
      method: opts.method ?? (payload === undefined ? "GET" : "POST"),
      path: opts.path,
      agent: false,
      headers: { host: "inference.local", ...(payload === undefined ? {} : { "content-type": "application/json" }), ...opts.headers },
    });
    req.on("response", (res) => {
      const arrivals: Reply["arrivals"] = [];
      res.on("data", (c: Buffer) => arrivals.push({ at: performance.now(), text: c.toString("utf8") }));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: arrivals.map((a) => a.text).join(""), arrivals }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** A raw request line, for targets `http.request` would not send as given. */
function rawRequest(router: ServedRouter, head: string, body = ""): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(router.port, "127.0.0.1");
    let data = "";
    socket.on("data", (c) => (data += c.toString("utf8")));
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), text: data.slice(data.indexOf("\r\n\r\n") + 4) }));
    socket.on("error", reject);
    // `connection: close` rather than a half-close: Node's server drops a half-closed client's response.
    socket.write(`${head}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: "routed", messages: [{ role: "user", content: "secret prompt text" }], ...extra });

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let stateDir: string;
let credentials: CredentialStore;
let router: InferenceRouter;
let alpha: ServedRouter;
let beta: ServedRouter;
let openaiStub: StubServer;
let anthropicStub: StubServer;
let placeholderAlpha: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-inference-"));
  credentials = new CredentialStore(stateDir);
  await credentials.add({ name: "openai", secret: REAL_OPENAI });
  await credentials.add({ name: "anthropic", secret: REAL_ANTHROPIC });
  placeholderAlpha = await credentials.placeholder("alpha", "openai");
  router = new InferenceRouter({ stateDir, credentials });
  alpha = await serveInferenceRouter(router, "alpha");
  beta = await serveInferenceRouter(router, "beta");
});

afterAll(async () => {
  await alpha.close();
  await beta.close();
  await router.close();
  await rm(stateDir, { recursive: true, force: true });
});

beforeEach(async () => {
  openaiStub = await startStub("openai", { tag: "oai" });
  anthropicStub = await startStub("anthropic", { tag: "ant" });
  await router.routes.set("alpha", { provider: "openai", model: "stub-model", baseUrl: openaiStub.baseUrl });
  await router.routes.set("beta", { provider: "anthropic", model: "claude-stub", baseUrl: anthropicStub.baseUrl });
});

afterEach(async () => {
  await openaiStub.close();
  await anthropicStub.close();
});

describe("OpenAI-shaped endpoints", () => {
  it("chat completion: the stub gets the REAL key and the route's model while the client sent a placeholder and the stable id", async () => {
    const reply = await call(alpha, { path: "/v1/chat/completions", body: chat(), headers: { authorization: `Bearer ${placeholderAlpha}` } });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ choices: [{ message: { content: "oai says hi" } }] });
    const seen = openaiStub.requests[0];
    expect(seen?.url).toBe("/v1/chat/completions");
    expect(seen?.headers.authorization).toBe(`Bearer ${REAL_OPENAI}`);
    expect(seen?.body.model).toBe("stub-model");
    expect(JSON.stringify(seen?.headers)).not.toContain(placeholderAlpha);
    // Upstream response headers are allow-listed: a cookie does not reach the sandbox.
    expect(reply.headers["set-cookie"]).toBeUndefined();
    expect(reply.headers["x-request-id"]).toBe("req_stub");
  });

  it("streaming: every chunk reaches the client before the stub sends the next one, the tool call included", async () => {
    openaiStub.options.chunkDelayMs = 150;
    openaiStub.options.chunks = 4;
    const reply = await call(alpha, { path: "/v1/chat/completions", body: chat({ stream: true }) });
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toBe("text/event-stream");
    const sent = openaiStub.requests[0]?.chunkTimes ?? [];
    for (let i = 0; i < 3; i++) {
      const arrival = reply.arrivals.find((a) => a.text.includes(`oai-${i} `));
      expect(arrival, `chunk ${i} arrived`).toBeDefined();
      // Chunk i arrived before chunk i+1 left the stub: nothing was held back.
      expect(arrival?.at).toBeLessThan(sent[i + 1] ?? 0);
    }
    expect(reply.text).toContain('"tool_calls":[{"index":0,"id":"call_1"');
    expect(reply.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    await router.flush();
    const last = (await readInferenceEvents(inferenceLogFile(stateDir, "alpha"))).at(-1);
    expect(last).toMatchObject({ sandbox: "alpha", provider: "openai", model: "stub-model", status: 200, outcome: "ok", stream: true, tokens: { input: 12, output: 4 } });
    expect(last?.ttftMs).toBeGreaterThan(0);
    expect(last?.ttftMs).toBeLessThan(last?.latencyMs ?? 0);
    expect(last?.bytesDown).toBe(Buffer.byteLength(reply.text));
  });

  it("responses (streamed) and completions pass through; usage is audited", async () => {
    const responses = await call(alpha, { path: "/v1/responses", body: { model: "routed", input: "hi", stream: true } });
    expect(responses.status).toBe(200);
    expect(responses.text).toContain("response.completed");
    const completions = await call(alpha, { path: "/v1/completions", body: { model: "routed", prompt: "hi" } });
    expect(completions.status).toBe(200);
    expect(openaiStub.requests.map((r) => r.url)).toEqual(["/v1/responses", "/v1/completions"]);
    await router.flush();
    const events = (await readInferenceEvents(inferenceLogFile(stateDir, "alpha"))).slice(-2);
    expect(events.map((e) => [e.endpoint, e.tokens])).toEqual([
      ["/v1/responses", { input: 9, output: 5 }],
      ["/v1/completions", { input: 12, output: 3 }],
    ]);
  });

  it("embeddings: the client's embedding model passes (it is not the chat model)", async () => {
    const reply = await call(alpha, { path: "/v1/embeddings", body: { model: "text-embedding-3-small", input: "x" } });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ data: [{ embedding: [0.1, 0.2, 0.3] }] });
    expect(openaiStub.requests[0]?.body.model).toBe("text-embedding-3-small");
  });

  it("/v1/models answers from the route, in the client's shape, without asking the upstream (which would echo the key)", async () => {
    const reply = await call(alpha, { path: "/v1/models" });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({
      object: "list",
      data: [
        { id: "routed", object: "model", created: 0, owned_by: "nemoclaw:openai" },
        { id: "stub-model", object: "model", created: 0, owned_by: "nemoclaw:openai" },
      ],
    });
    const anthropicShaped = await call(beta, { path: "/v1/models", headers: { "anthropic-version": "2023-06-01" } });
    expect(JSON.parse(anthropicShaped.text)).toMatchObject({ data: [{ type: "model", id: "routed" }, { type: "model", id: "claude-stub" }], has_more: false });
    expect(openaiStub.requests).toEqual([]);
    expect(reply.text + anthropicShaped.text).not.toContain("REAL");
  });

  it("Ollama's native /api/chat streams NDJSON through an ollama route; eval counts are audited", async () => {
    await router.routes.set("alpha", { provider: "ollama", model: "qwen3:8b", baseUrl: openaiStub.baseUrl });
    openaiStub.options.chunkDelayMs = 50;
    const reply = await call(alpha, { path: "/api/chat", body: { model: "routed", messages: [], stream: true } });
    expect(reply.status).toBe(200);
    expect(reply.arrivals.length).toBeGreaterThan(1);
    expect(openaiStub.requests[0]).toMatchObject({ url: "/api/chat", body: { model: "qwen3:8b" } });
    // Ollama takes no key: none is sent.
    expect(openaiStub.requests[0]?.headers.authorization).toBeUndefined();
    await router.flush();
    expect((await readInferenceEvents(inferenceLogFile(stateDir, "alpha"))).at(-1)).toMatchObject({ endpoint: "/api/chat", tokens: { input: 11, output: 5 } });
  });
});

describe("Anthropic-shaped endpoints", () => {
  it("/v1/messages streams with a tool_use block; the stub gets x-api-key = the real key and no Authorization", async () => {
    anthropicStub.options.chunkDelayMs = 100;
    anthropicStub.options.chunks = 3;
    const reply = await call(beta, {
      path: "/v1/messages?beta=true&key=stolen",
      body: { model: "routed", max_tokens: 10, stream: true, messages: [{ role: "user", content: "hi" }] },
      headers: { "x-api-key": "sk-ant-placeholder", "anthropic-version": "2023-06-01", "anthropic-beta": "tools-2024" },
    });
    expect(reply.status).toBe(200);
    const sent = anthropicStub.requests[0]?.chunkTimes ?? [];
    const first = reply.arrivals.find((a) => a.text.includes("ant-0 "));
    expect(first?.at).toBeLessThan(sent.at(-1) ?? 0);
    expect(reply.text).toContain('"type":"tool_use"');
    const seen = anthropicStub.requests[0];
    expect(seen?.url).toBe("/v1/messages?beta=true");
    expect(seen?.headers["x-api-key"]).toBe(REAL_ANTHROPIC);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers["anthropic-beta"]).toBe("tools-2024");
    expect(seen?.body.model).toBe("claude-stub");
    await router.flush();
    expect((await readInferenceEvents(inferenceLogFile(stateDir, "beta"))).at(-1)).toMatchObject({ provider: "anthropic", tokens: { input: 10, output: 3 } });
  });

  it("/v1/messages/count_tokens", async () => {
    const reply = await call(beta, { path: "/v1/messages/count_tokens", body: { model: "routed", messages: [] } });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ input_tokens: 42 });
    expect(anthropicStub.requests[0]?.headers["anthropic-version"]).toBe("2023-06-01");
  });
});

describe("credentials stay on the host", () => {
  it("strips every credential the client sent and every header not on the provider's list", async () => {
    await call(alpha, {
      path: "/v1/chat/completions?key=AIzaSANDBOX&api-version=1",
      body: chat(),
      headers: {
        authorization: "Bearer sk-sandbox",
        "x-api-key": "sk-sandbox-2",
        "api-key": "sk-sandbox-3",
        "x-goog-api-key": "AIzaSANDBOX",
        cookie: "session=1",
        "x-forwarded-for": "1.2.3.4",
        "openai-organization": "org-1",
      },
    });
    const seen = openaiStub.requests[0];
    expect(seen?.url).toBe("/v1/chat/completions");
    expect(seen?.headers.authorization).toBe(`Bearer ${REAL_OPENAI}`);
    for (const h of ["x-api-key", "api-key", "x-goog-api-key", "cookie", "x-forwarded-for"]) expect(seen?.headers[h], h).toBeUndefined();
    expect(seen?.headers["openai-organization"]).toBe("org-1");
    expect(JSON.stringify(seen?.headers)).not.toContain("sandbox");
  });

  it("upstream 401: the client's shape, the provider's status, a hint, and no echo of the key", async () => {
    openaiStub.options.failWith = 401;
    const reply = await call(alpha, { path: "/v1/chat/completions", body: chat() });
    expect(reply.status).toBe(401);
    const body = JSON.parse(reply.text) as { error: { message: string; type: string; code: string } };
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.code).toBe("upstream_error");
    expect(body.error.message).toMatch(/^401 from OpenAI: Incorrect API key provided: \[redacted\]/);
    expect(body.error.message).toContain("the stored key was rejected; run `openclaw nemoclaw credentials add openai --from-env OPENAI_API_KEY`");
    expect(reply.text).not.toContain(REAL_OPENAI);
    expect(reply.text).not.toContain(REAL_OPENAI.slice(8, 30));
  });

  it("upstream 500 on an Anthropic route comes back Anthropic-shaped, scrubbed", async () => {
    anthropicStub.options.failWith = 500;
    const reply = await call(beta, { path: "/v1/messages", body: { model: "routed", messages: [], max_tokens: 1 } });
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.text)).toMatchObject({ type: "error", error: { type: "api_error", message: expect.stringMatching(/^500 from Anthropic: internal failure while serving \[redacted\]/) } });
    expect(reply.text).not.toContain(REAL_ANTHROPIC);
  });

  it("the audit log holds no key, placeholder, prompt or completion", async () => {
    await call(alpha, { path: "/v1/chat/completions", body: chat(), headers: { authorization: `Bearer ${placeholderAlpha}` } });
    openaiStub.options.failWith = 401;
    await call(alpha, { path: "/v1/chat/completions", body: chat() });
    await router.flush();
    const text = await readFile(inferenceLogFile(stateDir, "alpha"), "utf8");
    for (const secret of [REAL_OPENAI, REAL_ANTHROPIC, placeholderAlpha, "secret prompt text", "oai says hi"]) expect(text).not.toContain(secret);
  });

  it("a required key that is not stored: 503 saying which command stores it", async () => {
    await credentials.add({ name: "nvidia", secret: "nvapi-x" });
    await router.routes.set("alpha", { provider: "nvidia", model: "m", baseUrl: openaiStub.baseUrl });
    await credentials.remove("nvidia");
    const reply = await call(alpha, { path: "/v1/chat/completions", body: chat() });
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code: "credential_missing", message: expect.stringContaining("credentials add nvidia --from-env NVIDIA_API_KEY") } });
    expect(openaiStub.requests).toEqual([]);
  });
});

describe("streams, switches and sandboxes", () => {
  it("a client that disconnects mid-stream cancels the upstream request", async () => {
    openaiStub.options.hold = true;
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: alpha.port, method: "POST", path: "/v1/chat/completions", agent: false, headers: { host: "inference.local", "content-type": "application/json" } });
      req.on("response", (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", () => {});
      req.end(JSON.stringify(chat({ stream: true })));
      setTimeout(() => reject(new Error("no first chunk")), 10_000);
    });
    await until(() => openaiStub.requests[0]?.aborted === true, "the stub to see its request aborted");
    expect(openaiStub.requests[0]?.completed).toBe(false);
    await router.flush();
    const events = await readInferenceEvents(inferenceLogFile(stateDir, "alpha"));
    expect(events.at(-1)).toMatchObject({ outcome: "client_closed", status: 499 });
  });

  it("live switch with a stream in flight: it finishes on the old stub; the next request goes to the new one", async () => {
    const other = await startStub("openai", { tag: "new" });
    try {
      openaiStub.options.hold = true;
      const streaming = call(alpha, { path: "/v1/chat/completions", body: chat({ stream: true }) });
      await openaiStub.nextRequest(1);
      await router.routes.set("alpha", { provider: "openai-compatible", model: "other-model", baseUrl: other.baseUrl, credential: "openai" });
      const next = await call(alpha, { path: "/v1/chat/completions", body: chat() });
      expect(JSON.parse(next.text)).toMatchObject({ choices: [{ message: { content: "new says hi" } }] });
      expect(other.requests[0]?.body.model).toBe("other-model");
      openaiStub.release();
      const old = await streaming;
      expect(old.status).toBe(200);
      for (let i = 0; i < 5; i++) expect(old.text).toContain(`oai-${i} `);
      expect(old.text).not.toContain("new-");
      expect(openaiStub.requests).toHaveLength(1);
      expect(openaiStub.requests[0]?.body.model).toBe("stub-model");
    } finally {
      await other.close();
    }
  });

  it("a switch of shape: the new shape goes to the new route at once; the old shape to the previous route only for the grace period", async () => {
    await router.routes.set("alpha", { provider: "anthropic", model: "claude-stub", baseUrl: anthropicStub.baseUrl });
    // OpenClaw has not reloaded yet: it still sends the OpenAI shape, which the previous route serves.
    const old = await call(alpha, { path: "/v1/chat/completions", body: chat() });
    expect(old.status, old.text).toBe(200);
    expect(openaiStub.requests).toHaveLength(1);
    const fresh = await call(alpha, { path: "/v1/messages", body: { model: "x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] } });
    expect(fresh.status, fresh.text).toBe(200);
    expect(anthropicStub.requests).toHaveLength(1);
    const audited = (await readInferenceEvents(inferenceLogFile(stateDir, "alpha"))).slice(-2);
    expect(audited.map((e) => e.provider)).toEqual(["openai", "anthropic"]);

    // Past the grace period (the stored deadline moved into the past), the old shape is refused.
    const file = path.join(stateDir, "sandboxes", "alpha", "inference.json");
    const stored = JSON.parse(await readFile(file, "utf8"));
    expect(stored.previous.route.provider).toBe("openai");
    stored.previous.until = new Date(Date.now() - 1000).toISOString();
    await writeFile(file, JSON.stringify(stored));
    const late = await call(alpha, { path: "/v1/chat/completions", body: chat() });
    expect(late.status).toBe(400);
    expect(JSON.parse(late.text)).toMatchObject({ error: { code: "route_shape_mismatch" } });
    expect(openaiStub.requests).toHaveLength(1);

    // A switch within one shape keeps no previous route.
    await router.routes.set("beta", { provider: "anthropic-compatible", model: "claude-other", baseUrl: anthropicStub.baseUrl, credential: "anthropic" });
    expect(JSON.parse(await readFile(path.join(stateDir, "sandboxes", "beta", "inference.json"), "utf8")).previous).toBeUndefined();
  });

  it("a route written by another process (another RouteStore) is seen on the next request", async () => {
    const other = await startStub("openai", { tag: "cli" });
    try {
      const { RouteStore } = await import("../../blueprint/inference/route.js");
      await new RouteStore(stateDir).set("alpha", { provider: "vllm", model: "v", baseUrl: other.baseUrl });
      const reply = await call(alpha, { path: "/v1/chat/completions", body: chat() });
      expect(JSON.parse(reply.text)).toMatchObject({ choices: [{ message: { content: "cli says hi" } }] });
    } finally {
      await other.close();
    }
  });

  it("two sandboxes, two routes, streaming at the same time", async () => {
    openaiStub.options.chunkDelayMs = 50;
    anthropicStub.options.chunkDelayMs = 50;
    const [a, b] = await Promise.all([
      call(alpha, { path: "/v1/chat/completions", body: chat({ stream: true }) }),
      call(beta, { path: "/v1/messages", body: { model: "routed", stream: true, max_tokens: 5, messages: [] } }),
    ]);
    expect(a.text).toContain("oai-4 ");
    expect(b.text).toContain("ant-4 ");
    expect(openaiStub.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${REAL_OPENAI}`]);
    expect(anthropicStub.requests.map((r) => r.headers["x-api-key"])).toEqual([REAL_ANTHROPIC]);
    // The two streams overlapped: each started before the other ended.
    expect(openaiStub.requests[0]?.chunkTimes[0]).toBeLessThan(anthropicStub.requests[0]?.chunkTimes.at(-1) ?? 0);
    expect(anthropicStub.requests[0]?.chunkTimes[0]).toBeLessThan(openaiStub.requests[0]?.chunkTimes.at(-1) ?? 0);
  });

  it("an upstream that is not listening: 502 in the client's shape saying so", async () => {
    const gone = await startStub("openai");
    await gone.close();
    await router.routes.set("alpha", { provider: "vllm", model: "m", baseUrl: gone.baseUrl });
    const reply = await call(alpha, { path: "/v1/chat/completions", body: chat() });
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code: "upstream_unreachable", message: expect.stringContaining("connection refused; is the server running?") } });
  });

  it("no total timeout, but an idle gap over the route's limit ends the call (audited)", async () => {
    openaiStub.options.hold = true;
    await router.routes.set("alpha", { provider: "openai", model: "stub-model", baseUrl: openaiStub.baseUrl, options: { idleTimeoutMs: 300 } });
    const reply = await call(alpha, { path: "/v1/chat/completions", body: chat({ stream: true }) }).catch((e: unknown) => e);
    // Headers and the first chunk were already sent: the stream is cut, not answered with an error.
    expect(reply).toBeInstanceOf(Error);
    await until(() => openaiStub.requests[0]?.aborted === true, "the upstream call to be abandoned");
    await router.flush();
    expect((await readInferenceEvents(inferenceLogFile(stateDir, "alpha"))).at(-1)).toMatchObject({ outcome: "idle_timeout", status: 504 });
  });

  it("a sandbox without a route: 503 naming the command", async () => {
    const gamma = await serveInferenceRouter(router, "gamma");
    try {
      const reply = await call(gamma, { path: "/v1/messages", body: {}, headers: { "anthropic-version": "2023-06-01" } });
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.text)).toMatchObject({ type: "error", error: { message: expect.stringContaining("openclaw nemoclaw gamma inference set") } });
    } finally {
      await gamma.close();
    }
  });
});

describe("steering the router elsewhere is refused", () => {
  let evil: StubServer;
  beforeEach(async () => {
    evil = await startStub("openai", { tag: "evil" });
  });
  afterEach(async () => {
    await evil.close();
    expect(evil.requests).toEqual([]);
    expect(openaiStub.requests).toEqual([]);
  });

  it.each([
    ["a path outside the endpoints", "/v1/files", 404, "unknown_endpoint"],
    ["dot segments", "/v1/chat/completions/../../admin", 404, "unknown_endpoint"],
    ["encoded dot segments", "/v1/%2e%2e/v1/chat/completions", 404, "unknown_endpoint"],
    ["a doubled slash", "//v1/chat/completions", 404, "unknown_endpoint"],
    ["a trailing slash", "/v1/chat/completions/", 404, "unknown_endpoint"],
  ])("%s (%s) → %i %s", async (_, target, status, code) => {
    const reply = await call(alpha, { path: target, body: chat() });
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code } });
  });

  it("an absolute URL naming another host", async () => {
    const reply = await rawRequest(alpha, `POST http://127.0.0.1:${evil.port}/v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${evil.port}`, JSON.stringify(chat()));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code: "not_inference_local" } });
  });

  it("absolute-form for inference.local itself is fine, but its Host must agree", async () => {
    const ok = await rawRequest(alpha, "POST http://inference.local/v1/chat/completions HTTP/1.1\r\nhost: inference.local", JSON.stringify(chat()));
    expect(ok.status).toBe(200);
    openaiStub.requests.length = 0;
    const bad = await rawRequest(alpha, `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${evil.port}`, JSON.stringify(chat()));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error: { code: "not_inference_local" } });
  });

  it("a model that is a URL", async () => {
    const reply = await call(alpha, { path: "/v1/chat/completions", body: chat({ model: `http://127.0.0.1:${evil.port}/v1` }) });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code: "invalid_model", message: expect.stringContaining("not a URL") } });
  });

  it("another model name is rewritten to the route's (the route decides, not the sandbox)", async () => {
    await call(alpha, { path: "/v1/chat/completions", body: chat({ model: "gpt-5-expensive" }) });
    expect(openaiStub.requests[0]?.body.model).toBe("stub-model");
    openaiStub.requests.length = 0;
  });

  it("the wrong method, and the wrong shape for the route", async () => {
    const get = await call(alpha, { method: "GET", path: "/v1/chat/completions" });
    expect(get.status).toBe(405);
    const mismatch = await call(beta, { path: "/v1/chat/completions", body: chat() });
    expect(mismatch.status).toBe(400);
    expect(JSON.parse(mismatch.text)).toMatchObject({ error: { code: "route_shape_mismatch", message: expect.stringContaining("anthropic-shaped") } });
    const native = await call(alpha, { path: "/api/chat", body: chat() });
    expect(native.status).toBe(400);
    expect(anthropicStub.requests).toEqual([]);
  });
});
