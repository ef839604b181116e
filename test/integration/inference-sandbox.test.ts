// The inference router end to end, from INSIDE real sandboxes: node's fetch through the
// supervisor's forwarder and the proxy socket (as OpenClaw's clients go), the host daemon with
// the real gateway answering inference.local in-process, and stub model servers on the host's
// 127.0.0.1 as the providers. The sandbox sends a placeholder; the stub must see the real key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { fetchInside, postJson, startInside } from "../helpers/inside-client.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const REAL_OPENAI = "sk-REAL-openai-inference-sandbox-0123456789abcdefABCDEF";
const REAL_ANTHROPIC = "sk-ant-REAL-anthropic-inference-sandbox-0123456789abcdef";

let h: SandboxHarness;
let alpha: string;
let beta: string;
let openai: StubServer;
let anthropic: StubServer;
let placeholder: string;

const chat = (extra: Record<string, unknown> = {}) => ({ model: "routed", messages: [{ role: "user", content: "hello from inside" }], ...extra });

async function setRoute(sandbox: string, body: Record<string, unknown>): Promise<void> {
  const answer = (await controlRequest(h.stateDir, "POST", "/inference/set", { sandbox, ...body })) as { ok: boolean; message?: string };
  if (!answer.ok) throw new Error(`inference/set: ${answer.message}`);
}

beforeAll(async () => {
  h = await createSandboxHarness({ daemon: false });
  const credentials = new CredentialStore(h.stateDir);
  await credentials.add({ name: "openai", secret: REAL_OPENAI });
  await credentials.add({ name: "anthropic", secret: REAL_ANTHROPIC });
  openai = await startStub("openai", { tag: "oai" });
  anthropic = await startStub("anthropic", { tag: "ant" });
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
  alpha = (await h.create("inf-a")).name;
  beta = (await h.create("inf-b")).name;
  placeholder = await credentials.placeholder(alpha, "openai");
}, 900_000);

afterAll(async () => {
  await h?.dispose();
  await openai?.close();
  await anthropic?.close();
});

describe("inference.local from inside a real sandbox", () => {
  it("chat completion over http://: the stub gets the real key and the route's model, the sandbox sent a placeholder", async () => {
    await setRoute(alpha, { provider: "openai", model: "stub-model", baseUrl: openai.baseUrl });
    const before = openai.requests.length;
    const r = await fetchInside(h, alpha, "http://inference.local/v1/chat/completions", postJson(chat(), { authorization: `Bearer ${placeholder}` }));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ choices: [{ message: { content: "oai says hi" } }] });
    const seen = openai.requests[before];
    expect(seen?.headers.authorization).toBe(`Bearer ${REAL_OPENAI}`);
    expect(seen?.body.model).toBe("stub-model");
    expect(JSON.stringify(seen?.headers)).not.toContain(placeholder);
  }, 120_000);

  it("the same over https:// (CONNECT inference.local:443, terminated with the sandbox's CA)", async () => {
    await setRoute(alpha, { provider: "openai", model: "stub-model", baseUrl: openai.baseUrl });
    const before = openai.requests.length;
    const r = await fetchInside(h, alpha, "https://inference.local/v1/chat/completions", postJson(chat(), { authorization: `Bearer ${placeholder}` }));
    expect(r.status).toBe(200);
    expect(openai.requests[before]?.headers.authorization).toBe(`Bearer ${REAL_OPENAI}`);
  }, 120_000);

  it("streaming: the first chunk is inside the sandbox while the stub still holds the rest of the stream", async () => {
    const held = await startStub("openai", { tag: "held", hold: true });
    try {
      await setRoute(alpha, { provider: "openai", model: "stub-model", baseUrl: held.baseUrl });
      const call = startInside(h, alpha, "http://inference.local/v1/chat/completions", postJson(chat({ stream: true }), {}, true));
      await call.waitFor("held-0");
      const record = await held.nextRequest(1);
      // Arrived before the stream ended: the stub has not sent its second chunk yet.
      expect(record.completed).toBe(false);
      expect(record.chunkTimes).toHaveLength(1);
      expect(call.output()).not.toContain("held-1");
      held.release();
      const r = await call.done;
      expect(r.status).toBe(200);
      expect(r.chunks.length).toBeGreaterThan(1);
      expect(r.body).toContain("held-4");
      expect(r.body).toContain('"tool_calls"');
      expect(r.body).toContain("data: [DONE]");
    } finally {
      await held.close();
    }
  }, 120_000);

  it("embeddings and /v1/models", async () => {
    await setRoute(alpha, { provider: "openai", model: "stub-model", baseUrl: openai.baseUrl });
    const e = await fetchInside(h, alpha, "http://inference.local/v1/embeddings", postJson({ model: "text-embedding-3-small", input: "x" }));
    expect(e.status).toBe(200);
    expect(JSON.parse(e.body ?? "{}")).toMatchObject({ data: [{ embedding: [0.1, 0.2, 0.3] }] });
    const m = await fetchInside(h, alpha, "http://inference.local/v1/models");
    expect(m.status).toBe(200);
    const ids = (JSON.parse(m.body ?? "{}") as { data: Array<{ id: string }> }).data.map((d) => d.id);
    expect(ids).toEqual(expect.arrayContaining(["routed", "stub-model"]));
  }, 120_000);

  it("/v1/messages on an Anthropic route: x-api-key is the real key", async () => {
    await setRoute(beta, { provider: "anthropic", model: "claude-stub", baseUrl: anthropic.baseUrl });
    const before = anthropic.requests.length;
    const r = await fetchInside(h, beta, "http://inference.local/v1/messages", postJson({ model: "routed", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }, { "x-api-key": "sk-ant-whatever-the-sandbox-has", "anthropic-version": "2023-06-01" }));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ content: [{ text: "ant says hi" }] });
    expect(anthropic.requests[before]?.headers["x-api-key"]).toBe(REAL_ANTHROPIC);
    expect(anthropic.requests[before]?.body.model).toBe("claude-stub");
  }, 120_000);

  it("live switch OpenAI → Anthropic with a stream in flight: it finishes on the old route, the next request goes to the new one", async () => {
    const held = await startStub("openai", { tag: "old", hold: true });
    const fresh = await startStub("anthropic", { tag: "new" });
    try {
      await setRoute(alpha, { provider: "openai", model: "stub-model", baseUrl: held.baseUrl });
      const stream = startInside(h, alpha, "http://inference.local/v1/chat/completions", postJson(chat({ stream: true }), {}, true));
      await stream.waitFor("old-0");
      await setRoute(alpha, { provider: "anthropic", model: "claude-new", baseUrl: fresh.baseUrl });
      const next = await fetchInside(h, alpha, "http://inference.local/v1/messages", postJson({ model: "routed", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }, { "anthropic-version": "2023-06-01" }));
      expect(next.status).toBe(200);
      expect(next.body).toContain("new says hi");
      expect(fresh.requests[0]?.headers["x-api-key"]).toBe(REAL_ANTHROPIC);
      // The old stream is still open, on the old upstream.
      expect(held.requests[0]?.completed).toBe(false);
      held.release();
      const done = await stream.done;
      expect(done.status).toBe(200);
      expect(done.body).toContain("old-4");
      expect(done.body).toContain("data: [DONE]");
      expect(held.requests).toHaveLength(1);
    } finally {
      await held.close();
      await fresh.close();
    }
  }, 180_000);

  it("two sandboxes, two routes, at the same time", async () => {
    await setRoute(alpha, { provider: "openai", model: "stub-model", baseUrl: openai.baseUrl });
    await setRoute(beta, { provider: "anthropic", model: "claude-stub", baseUrl: anthropic.baseUrl });
    const [a, b] = await Promise.all([
      fetchInside(h, alpha, "http://inference.local/v1/chat/completions", postJson(chat())),
      fetchInside(h, beta, "http://inference.local/v1/messages", postJson({ model: "routed", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }, { "anthropic-version": "2023-06-01" })),
    ]);
    expect(a.status).toBe(200);
    expect(a.body).toContain("oai says hi");
    expect(b.status).toBe(200);
    expect(b.body).toContain("ant says hi");
    // Each sandbox's call is in its own inference log.
    const logs = (await controlRequest(h.stateDir, "POST", "/inference/logs", { sandbox: beta })) as { ok: boolean; events: Array<{ sandbox: string; provider: string; endpoint: string }> };
    expect(logs.events.at(-1)).toMatchObject({ sandbox: beta, provider: "anthropic", endpoint: "/v1/messages" });
  }, 180_000);

  it("an OpenAI-shaped request on an Anthropic route is refused in its own shape, naming the fix", async () => {
    await setRoute(beta, { provider: "anthropic", model: "claude-stub", baseUrl: anthropic.baseUrl });
    const r = await fetchInside(h, beta, "http://inference.local/v1/chat/completions", postJson(chat()));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: { code: "route_shape_mismatch" } });
  }, 120_000);
});
