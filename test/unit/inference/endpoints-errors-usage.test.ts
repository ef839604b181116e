import { describe, expect, it } from "vitest";
import { classifyRequest } from "../../../blueprint/inference/endpoints.js";
import { errorBody, scrubSecrets, upstreamMessage } from "../../../blueprint/inference/errors.js";
import { UsageMeter } from "../../../blueprint/inference/usage.js";

const H = { host: "inference.local" };

describe("classifyRequest", () => {
  it("accepts the endpoints in origin-form and absolute-form for inference.local, keeping only allowed query keys", () => {
    expect(classifyRequest("POST", "/v1/chat/completions?key=x", H)).toMatchObject({ ok: true, endpoint: { id: "chat.completions" }, query: "" });
    expect(classifyRequest("POST", "http://inference.local:80/v1/messages?beta=true&key=x", H)).toMatchObject({ ok: true, endpoint: { id: "messages" }, query: "?beta=true" });
    expect(classifyRequest("GET", "/v1/models", { host: "inference.local:80" })).toMatchObject({ ok: true, endpoint: { id: "models" } });
  });

  it.each([
    ["POST", "https://inference.local/v1/chat/completions", H, "not_inference_local"],
    ["POST", "http://evil.example/v1/chat/completions", H, "not_inference_local"],
    ["POST", "http://inference.local.evil.example/v1/chat/completions", H, "not_inference_local"],
    ["POST", "/v1/chat/completions", { host: "evil.example" }, "not_inference_local"],
    ["POST", "/v1/chat/completions", {}, "not_inference_local"],
    ["POST", "/v1/chat/completions/x", H, "unknown_endpoint"],
    ["POST", "/v1/Chat/Completions", H, "unknown_endpoint"],
    ["POST", "/v1/chat%2Fcompletions", H, "unknown_endpoint"],
    ["POST", "/v1/models", H, "method_not_allowed"],
  ] as const)("%s %s %j → %s", (method, target, headers, code) => {
    expect(classifyRequest(method, target, headers)).toMatchObject({ ok: false, code });
  });

  it("answers refusals in the shape the client speaks", () => {
    expect(classifyRequest("POST", "/v1/messages/x", H)).toMatchObject({ clientShape: "anthropic" });
    expect(classifyRequest("POST", "/v1/other", { ...H, "anthropic-version": "1" })).toMatchObject({ clientShape: "anthropic" });
    expect(classifyRequest("POST", "/api/generate", H)).toMatchObject({ clientShape: "ollama" });
    expect(JSON.parse(errorBody("anthropic", 401, "c", "m"))).toEqual({ type: "error", error: { type: "authentication_error", message: "m", code: "c" } });
    expect(JSON.parse(errorBody("openai", 429, "c", "m"))).toEqual({ error: { message: "m", type: "rate_limit_error", code: "c", param: null } });
    expect(JSON.parse(errorBody("ollama", 500, "c", "m"))).toEqual({ error: "m", code: "c" });
  });
});

describe("scrubSecrets and upstreamMessage", () => {
  it("removes the secret in every spelling and anything key-shaped", () => {
    const secret = "my+secret/value=1";
    const text = `a ${secret} b ${encodeURIComponent(secret)} c ${Buffer.from(secret).toString("base64")} d sk-proj-abcdefgh123 e Bearer xyz f nvapi-12345678`;
    const out = scrubSecrets(text, [secret]);
    expect(out).toBe("a [redacted] b [redacted] c [redacted] d [redacted] e [redacted] f [redacted]");
  });

  it("finds the message in each provider's error shape", () => {
    expect(upstreamMessage('{"error":{"message":"bad key"}}')).toBe("bad key");
    expect(upstreamMessage('{"type":"error","error":{"type":"x","message":"overloaded"}}')).toBe("overloaded");
    expect(upstreamMessage('{"error":"model not found"}')).toBe("model not found");
    expect(upstreamMessage('[{"error":{"message":"gemini says no"}}]')).toBe("gemini says no");
    expect(upstreamMessage("Bad Gateway")).toBe("Bad Gateway");
    expect(upstreamMessage("")).toBeUndefined();
  });
});

describe("UsageMeter", () => {
  const feed = (contentType: string, text: string, pieces = 7) => {
    const m = new UsageMeter(contentType);
    const b = Buffer.from(text);
    for (let i = 0; i < b.length; i += pieces) m.push(b.subarray(i, i + pieces));
    return m.end();
  };
  it("reads OpenAI's final usage chunk across split chunks", () => {
    expect(feed("text/event-stream", 'data: {"choices":[]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7}}\n\ndata: [DONE]\n\n')).toEqual({ input: 5, output: 7 });
  });
  it("reads Anthropic's message_start and message_delta", () => {
    const sse = 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":33}}\n\n';
    expect(feed("text/event-stream; charset=utf-8", sse)).toEqual({ input: 10, output: 33 });
  });
  it("reads a JSON body, and Ollama's final NDJSON line", () => {
    expect(feed("application/json", '{"usage":{"input_tokens":3,"output_tokens":4}}')).toEqual({ input: 3, output: 4 });
    expect(feed("application/x-ndjson", '{"done":false}\n{"done":true,"prompt_eval_count":8,"eval_count":9}')).toEqual({ input: 8, output: 9 });
    expect(feed("text/plain", "usage")).toEqual({});
  });
});
