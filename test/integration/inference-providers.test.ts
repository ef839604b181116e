// The providers inference-router.test.ts does not reach, over real sockets: Gemini (its
// OpenAI-compatible endpoint under /v1beta/openai), llama.cpp and LM Studio (OpenAI-shaped, key
// optional), any Anthropic-compatible base URL; and a base URL whose *name* resolves to an address
// the route may not reach, refused when the router connects. Names are answered by the router's
// `resolve` hook from a map, never by DNS; upstreams are stub servers on 127.0.0.1.
import type { LookupAddress } from "node:dns";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { inferenceLogFile, readInferenceEvents } from "../../blueprint/inference/audit.js";
import { InferenceRouter } from "../../blueprint/inference/router.js";
import { serveInferenceRouter, type ServedRouter } from "../../blueprint/inference/serve.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const REAL_GEMINI = "AIzaREALgeminiKEYdoNOTleak0123456789abc";
const REAL_LLAMA = "llama-REAL-server-key-0123456789abcdef";
const REAL_COMPAT = "sk-ant-REAL-compatible-key-0123456789abcdef";

/** The names the router's resolver knows; anything else is ENOTFOUND (never a DNS query). */
const NAMES: Record<string, string> = {
  "llm.corp.test": "10.20.30.40",
  "meta.corp.test": "169.254.169.254",
  "box.corp.test": "127.0.0.1",
};
const resolved: string[] = [];
const resolve = async (hostname: string): Promise<LookupAddress[]> => {
  resolved.push(hostname);
  const address = NAMES[hostname];
  if (address === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  return [{ address, family: 4 }];
};

interface Reply {
  status: number;
  text: string;
}

function call(router: ServedRouter, opts: { path: string; body: unknown; headers?: Record<string, string> }): Promise<Reply> {
  return new Promise((done, reject) => {
    const payload = JSON.stringify(opts.body);
    const req = http.request({ host: "127.0.0.1", port: router.port, method: "POST", path: opts.path, agent: false, headers: { host: "inference.local", "content-type": "application/json", ...opts.headers } });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => done({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: "routed", messages: [{ role: "user", content: "hi" }], ...extra });
const messages = (extra: Record<string, unknown> = {}) => ({ model: "routed", max_tokens: 64, messages: [{ role: "user", content: "hi" }], ...extra });
/** What a sandbox would send: a placeholder-ish key in every header a key can hide in. */
const SANDBOX_KEYS = { authorization: "Bearer sandbox-sent-this", "x-api-key": "sandbox-sent-this", "x-goog-api-key": "sandbox-sent-this" };

let stateDir: string;
let router: InferenceRouter;
let served: ServedRouter;
/** Each case starts its own (the options differ); closed after it. */
let openaiStub: StubServer | undefined;
let anthropicStub: StubServer;
const SANDBOX = "prov";

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-providers-"));
  const credentials = new CredentialStore(stateDir);
  await credentials.add({ name: "gemini", kind: "gemini", secret: REAL_GEMINI });
  await credentials.add({ name: "llama", kind: "generic", secret: REAL_LLAMA, bindings: [] });
  await credentials.add({ name: "compat", kind: "generic", secret: REAL_COMPAT, bindings: [] });
  router = new InferenceRouter({ stateDir, credentials, resolve });
  served = await serveInferenceRouter(router, SANDBOX);
});

afterAll(async () => {
  await served.close();
  await router.close();
  await rm(stateDir, { recursive: true, force: true });
});

beforeEach(async () => {
  anthropicStub = await startStub("anthropic", { tag: "compat" });
});

afterEach(async () => {
  await openaiStub?.close();
  openaiStub = undefined;
  await anthropicStub.close();
});

const lastEvent = async () => {
  await router.flush();
  return (await readInferenceEvents(inferenceLogFile(stateDir, SANDBOX))).at(-1);
};

describe("providers, each against a stub on 127.0.0.1", () => {
  it("gemini: under /v1beta/openai, the real key as a Bearer token, the sandbox's keys dropped", async () => {
    openaiStub = await startStub("openai", { tag: "gem", root: "/v1beta/openai" });
    await router.routes.set(SANDBOX, { provider: "gemini", model: "gemini-2.5-flash", baseUrl: openaiStub.baseUrl });
    const r = await call(served, { path: "/v1/chat/completions", body: chat(), headers: SANDBOX_KEYS });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ choices: [{ message: { content: "gem says hi" } }] });
    const seen = openaiStub.requests[0];
    expect(seen?.url).toBe("/v1beta/openai/chat/completions");
    expect(seen?.headers.authorization).toBe(`Bearer ${REAL_GEMINI}`);
    expect(seen?.headers["x-goog-api-key"]).toBeUndefined();
    expect(seen?.headers["x-api-key"]).toBeUndefined();
    expect(seen?.body.model).toBe("gemini-2.5-flash");
    const streamed = await call(served, { path: "/v1/chat/completions", body: chat({ stream: true }) });
    expect(streamed.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(await lastEvent()).toMatchObject({ provider: "gemini", model: "gemini-2.5-flash", status: 200, outcome: "ok", stream: true });
  });

  it("llamacpp without a key: nothing the sandbox sent as a key reaches llama-server", async () => {
    openaiStub = await startStub("openai", { tag: "llama" });
    await router.routes.set(SANDBOX, { provider: "llamacpp", model: "qwen3-8b-q4", baseUrl: openaiStub.baseUrl });
    const r = await call(served, { path: "/v1/chat/completions", body: chat(), headers: SANDBOX_KEYS });
    expect(r.status).toBe(200);
    const seen = openaiStub.requests[0];
    expect(seen?.url).toBe("/v1/chat/completions");
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers["x-api-key"]).toBeUndefined();
    expect(seen?.body.model).toBe("qwen3-8b-q4");
    expect(await lastEvent()).toMatchObject({ provider: "llamacpp", status: 200, outcome: "ok" });
  });

  it("llamacpp with --api-key (a stored credential): the real key as a Bearer token; embeddings pass", async () => {
    openaiStub = await startStub("openai", { tag: "llama" });
    await router.routes.set(SANDBOX, { provider: "llamacpp", model: "qwen3-8b-q4", baseUrl: openaiStub.baseUrl, credential: "llama" });
    expect((await call(served, { path: "/v1/chat/completions", body: chat(), headers: SANDBOX_KEYS })).status).toBe(200);
    const e = await call(served, { path: "/v1/embeddings", body: { model: "nomic-embed", input: "x" } });
    expect(e.status).toBe(200);
    expect(openaiStub.requests.map((q) => [q.url, q.headers.authorization])).toEqual([
      ["/v1/chat/completions", `Bearer ${REAL_LLAMA}`],
      ["/v1/embeddings", `Bearer ${REAL_LLAMA}`],
    ]);
  });

  it("lmstudio: OpenAI-shaped, streamed chunk by chunk, no key", async () => {
    openaiStub = await startStub("openai", { tag: "lms", chunks: 3 });
    await router.routes.set(SANDBOX, { provider: "lmstudio", model: "lmstudio-community/qwen3", baseUrl: openaiStub.baseUrl });
    const r = await call(served, { path: "/v1/chat/completions", body: chat({ stream: true }), headers: SANDBOX_KEYS });
    expect(r.status).toBe(200);
    expect(r.text).toContain("lms-2 ");
    expect(openaiStub.requests[0]?.headers.authorization).toBeUndefined();
    expect(openaiStub.requests[0]?.body.model).toBe("lmstudio-community/qwen3");
    expect(await lastEvent()).toMatchObject({ provider: "lmstudio", status: 200, stream: true, tokens: { input: 12, output: 3 } });
  });

  it("anthropic-compatible: /v1/messages under the base URL, the real key in x-api-key, anthropic-version added", async () => {
    await router.routes.set(SANDBOX, { provider: "anthropic-compatible", model: "compat-model", baseUrl: anthropicStub.baseUrl, credential: "compat" });
    const r = await call(served, { path: "/v1/messages", body: messages(), headers: SANDBOX_KEYS });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ content: [{ type: "text", text: "compat says hi" }] });
    const streamed = await call(served, { path: "/v1/messages", body: messages({ stream: true }) });
    expect(streamed.text).toContain("event: message_stop");
    const seen = anthropicStub.requests[0];
    expect(seen?.url).toBe("/v1/messages");
    expect(seen?.headers["x-api-key"]).toBe(REAL_COMPAT);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(seen?.body.model).toBe("compat-model");
    expect(await lastEvent()).toMatchObject({ provider: "anthropic-compatible", model: "compat-model", status: 200, stream: true });
  });
});

describe("a base URL by name: the address rule applies to what the name resolves to, when the router connects", () => {
  it("a name resolving to a private address, without --allow-private: set is accepted, the call is refused 502 naming the address; nothing connects", async () => {
    openaiStub = await startStub("openai");
    const set = await router.routes.set(SANDBOX, { provider: "vllm", model: "m", baseUrl: `http://llm.corp.test:${openaiStub.port}/v1` });
    expect(set.route.baseUrl).toBe(`http://llm.corp.test:${openaiStub.port}/v1`);
    resolved.length = 0;
    const r = await call(served, { path: "/v1/chat/completions", body: chat() });
    expect(resolved).toEqual(["llm.corp.test"]);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text)).toMatchObject({ error: { code: "upstream_unreachable", message: expect.stringMatching(/llm\.corp\.test resolves to 10\.20\.30\.40 is private.*--allow-private/) } });
    expect(openaiStub.requests).toHaveLength(0);
    expect(await lastEvent()).toMatchObject({ provider: "vllm", outcome: "unreachable", status: 502, reason: expect.stringContaining("resolves to 10.20.30.40") });
  });

  it("a name resolving to the metadata address is refused even with --allow-private", async () => {
    openaiStub = await startStub("openai");
    await router.routes.set(SANDBOX, { provider: "vllm", model: "m", baseUrl: `http://meta.corp.test:${openaiStub.port}/v1`, allowPrivate: true });
    const r = await call(served, { path: "/v1/chat/completions", body: chat() });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text)).toMatchObject({ error: { message: expect.stringMatching(/meta\.corp\.test resolves to 169\.254\.169\.254 is the .* address, which the router never reaches/) } });
    expect(openaiStub.requests).toHaveLength(0);
  });

  it("a name resolving to loopback is first-class: reached without any flag", async () => {
    openaiStub = await startStub("openai", { tag: "box" });
    await router.routes.set(SANDBOX, { provider: "vllm", model: "m", baseUrl: `http://box.corp.test:${openaiStub.port}/v1` });
    const r = await call(served, { path: "/v1/chat/completions", body: chat() });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ choices: [{ message: { content: "box says hi" } }] });
    expect(openaiStub.requests[0]?.headers.host).toBe(`box.corp.test:${openaiStub.port}`);
  });
});
