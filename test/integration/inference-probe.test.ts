// The health step's model call (blueprint/runtime/inference-probe.ts) over real sockets: the very
// program onboarding runs inside the sandbox, run here by a real `node -e` against the inference
// router on 127.0.0.1 (in the sandbox the forwarder hands it the same requests), with stub
// providers behind it. A key the provider rejects fails the check with the provider's status, its
// message (the key scrubbed) and the router's hint; `GET /v1/models` alone would have passed.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { InferenceRouter } from "../../blueprint/inference/router.js";
import { inferenceProbeProgram, readInferenceProbe } from "../../blueprint/runtime/inference-probe.js";
import { freePort } from "../helpers/free-port.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const KEY = "sk-REAL-probe-key-0123456789abcdef";

let stateDir: string;
let router: InferenceRouter;
let server: http.Server;
let origin: string;
const stubs: StubServer[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-probe-"));
  const credentials = new CredentialStore(stateDir);
  await credentials.add({ name: "openai", secret: KEY });
  await credentials.add({ name: "anthropic", secret: KEY });
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  // The program sends Host 127.0.0.1:<port>; the router answers it as it answers inference.local.
  router = new InferenceRouter({ stateDir, credentials, hosts: [`127.0.0.1:${port}`] });
  server = http.createServer((req, res) => void router.handle("probe", req, res));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await router?.close();
  for (const stub of stubs) await stub.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function probe(shape: "openai" | "anthropic") {
  const run = await execa(process.execPath, ["-e", inferenceProbeProgram({ shape, origin })], { reject: false, timeout: 60_000 });
  return readInferenceProbe(run.stdout, run.exitCode ?? -1, run.stderr);
}

async function route(provider: "openai" | "anthropic", options: Parameters<typeof startStub>[1] = {}) {
  const stub = await startStub(provider, { tag: provider, ...options });
  stubs.push(stub);
  await router.routes.set("probe", { provider, model: "stub-model", baseUrl: stub.baseUrl });
  return stub;
}

describe("the health step's model call through the router", () => {
  it("a rejected key fails it with the provider's 401, its message without the key, and the router's hint", async () => {
    const stub = await route("openai", { failWith: 401 });
    const result = await probe("openai");
    expect(result.ok).toBe(false);
    expect(result.status).toBe(401);
    expect(result.models).toContain("stub-model");
    expect(result.detail).toMatch(/^POST http:\/\/inference\.local\/v1\/chat\/completions answered 401: 401 from OpenAI: Incorrect API key provided/);
    expect(result.detail).toContain("the stored key was rejected; run `openclaw nemoclaw credentials add openai --from-env OPENAI_API_KEY`");
    expect(result.detail).not.toContain(KEY);
    // The provider did see the real key: the call went all the way.
    expect(stub.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(stub.requests.at(-1)?.body.max_tokens).toBe(1);
  });

  it("a working OpenAI-shaped route passes with one chat completion of max_tokens 1", async () => {
    const stub = await route("openai");
    const result = await probe("openai");
    expect(result, result.detail).toMatchObject({ ok: true, status: 200 });
    expect(result.detail).toContain("/v1/chat/completions answered 200");
    expect(stub.requests.map((r) => r.url)).toEqual(["/v1/chat/completions"]);
    expect(stub.requests[0]?.body).toMatchObject({ model: "stub-model", max_tokens: 1, stream: false });
  });

  it("an Anthropic-shaped route is called at /v1/messages, also just after a switch of shape", async () => {
    // The previous test's OpenAI route is still served for chat completions for 15 s (route.ts):
    // a probe guessing the shape would have passed on the old route.
    const stub = await route("anthropic");
    const result = await probe("anthropic");
    expect(result, result.detail).toMatchObject({ ok: true, status: 200 });
    expect(result.detail).toContain("/v1/messages answered 200");
    expect(stub.requests.map((r) => r.url)).toEqual(["/v1/messages"]);
    expect(stub.requests[0]?.headers["x-api-key"]).toBe(KEY);
  });

  it("an Anthropic provider rejecting the key fails it too", async () => {
    await route("anthropic", { failWith: 401 });
    const result = await probe("anthropic");
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.detail).toMatch(/\/v1\/messages answered 401: 401 from Anthropic: .*the stored key was rejected/);
    expect(result.detail).not.toContain(KEY);
  });

  it("a provider refusing max_tokens (OpenAI's reasoning models) is asked once more with max_completion_tokens", async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const picky = http.createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString("utf8")));
      req.on("end", () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        bodies.push(body);
        const refuse = "max_tokens" in body;
        res.writeHead(refuse ? 400 : 200, { "content-type": "application/json" });
        res.end(JSON.stringify(refuse
          ? { error: { message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", type: "invalid_request_error", param: "max_tokens", code: "unsupported_parameter" } }
          : { id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: "length" }] }));
      });
    });
    await new Promise<void>((resolve) => picky.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = picky.address() as import("node:net").AddressInfo;
      await router.routes.set("probe", { provider: "openai", model: "reasoning-model", baseUrl: `http://127.0.0.1:${port}/v1` });
      const result = await probe("openai");
      expect(result, result.detail).toMatchObject({ ok: true, status: 200 });
      expect(bodies.map((b) => [b.max_tokens, b.max_completion_tokens])).toEqual([[1, undefined], [undefined, 16]]);
    } finally {
      picky.closeAllConnections();
      await new Promise((resolve) => picky.close(resolve));
    }
  });
});
