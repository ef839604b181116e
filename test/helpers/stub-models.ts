// Stub model servers on 127.0.0.1 (ephemeral ports) for the inference router's tests and bench:
// an OpenAI-compatible one (chat, completions, responses, embeddings, models, and Ollama's
// native /api/chat) and an Anthropic one (messages, count_tokens). They stream SSE with a
// controllable gap between chunks (or hold the stream until released), emit a tool call,
// report usage, fail on demand with 401/500 bodies that echo the key they were sent, and record
// every request: headers, body, when each chunk left, and whether the client went away.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

export interface StubRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** performance.now() when each body chunk was written. */
  chunkTimes: number[];
  completed: boolean;
  /** The client (the router) closed the connection before the response ended. */
  aborted: boolean;
}

export interface StubOptions {
  /** Content chunks per streamed answer. Default 5. */
  chunks?: number;
  /** Gap between chunks, ms. Default 0. */
  chunkDelayMs?: number;
  /** Stream a tool call after the text. Default true. */
  toolCall?: boolean;
  /** Answer every request with this status and a body echoing the received key. */
  failWith?: 401 | 500;
  /** After the first chunk, wait for `release()` before sending the rest. */
  hold?: boolean;
  /** Tag put in every answer's text, to tell stubs apart. */
  tag?: string;
  /** OpenAI-shaped: where the API lives instead of `/v1` (Gemini's `/v1beta/openai`); `baseUrl` follows, and `/v1/…` is then a 404. */
  root?: string;
  /**
   * Drive an agent turn: a chat request whose conversation does not end in a tool result is
   * answered with one `exec` tool call running this command (no text); one that does end in a
   * tool result is answered with text only. Overrides `toolCall`.
   */
  execCommand?: string;
  /**
   * Scripted tool calls (OpenAI chat shape): the turn's next step given the request's messages,
   * e.g. what a skill's instructions would make a model do. Returning tool calls streams them
   * (finish_reason tool_calls); returning text ends the turn with it. Replaces `toolCall`.
   * `model` is the request's model name, so callers running several at once can tell them apart.
   */
  script?: (messages: ChatMessage[], model: string) => ScriptStep;
}

/**
 * The tool results (OpenAI `tool` messages, Anthropic `tool_result` blocks) the conversation
 * holds, joined, if it holds any.
 */
export function lastToolResult(body: Record<string, unknown>): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const text = (content: unknown): string =>
    typeof content === "string" ? content : Array.isArray(content) ? content.map((c) => (typeof c === "string" ? c : text((c as Record<string, unknown>).text ?? (c as Record<string, unknown>).content ?? ""))).join("") : "";
  const results: string[] = [];
  for (const m of messages) {
    if (m.role === "tool") results.push(text(m.content));
    else if (Array.isArray(m.content)) for (const c of m.content as Array<Record<string, unknown>>) if (c.type === "tool_result") results.push(text(c.content));
  }
  return results.length > 0 ? results.join("\n") : undefined;
}

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: string;
}
export type ScriptStep = { toolCalls: Array<{ name: string; arguments: Record<string, unknown> }> } | { text: string };

/**
 * A script that runs `commands` with the exec tool, one call per model step, then says `done`:
 * the n-th step (n = tool-call steps so far in the conversation) runs the n-th command.
 */
export function execScript(commands: readonly string[], done = "done"): (messages: ChatMessage[]) => ScriptStep {
  return (messages) => {
    // Steps taken so far = assistant messages with tool calls in the conversation (one session
    // per prompt; OpenClaw adds "user" context messages after tool results, so the last user
    // message is not the prompt).
    const steps = messages.filter((m) => m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0).length;
    const command = commands[steps];
    return command === undefined ? { text: done } : { toolCalls: [{ name: "exec", arguments: { command } }] };
  };
}

export interface StubServer {
  kind: "openai" | "anthropic";
  port: number;
  /** OpenAI-shaped: `http://127.0.0.1:PORT/v1`; Anthropic-shaped: `http://127.0.0.1:PORT`. */
  baseUrl: string;
  requests: StubRequest[];
  options: StubOptions;
  /** Lets held streams continue. */
  release(): void;
  /** Resolves when a request has arrived (the n-th, 1-based; default the next one). */
  nextRequest(n?: number): Promise<StubRequest>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function receivedKey(headers: http.IncomingHttpHeaders): string {
  return String(headers["x-api-key"] ?? headers.authorization ?? "(none)");
}

export async function startStub(kind: "openai" | "anthropic", options: StubOptions = {}): Promise<StubServer> {
  const requests: StubRequest[] = [];
  let releaseHold: () => void = () => {};
  let held = new Promise<void>((r) => (releaseHold = r));
  const waiters: Array<{ n: number; resolve: (r: StubRequest) => void }> = [];
  const sockets = new Set<import("node:net").Socket>();

  const server = http.createServer({ noDelay: true }, (req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString("utf8") || "{}") as Record<string, unknown>;
      } catch {
        body = { unparsable: true };
      }
      const record: StubRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, chunkTimes: [], completed: false, aborted: false };
      requests.push(record);
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve(requests[w.n - 1] as StubRequest);
        else waiters.push(w);
      }
      res.on("close", () => {
        if (!record.completed) record.aborted = true;
      });
      void answer(kind, options, record, res, () => held).catch(() => {});
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    kind,
    port,
    baseUrl: kind === "openai" ? `http://127.0.0.1:${port}${options.root ?? "/v1"}` : `http://127.0.0.1:${port}`,
    requests,
    options,
    release() {
      releaseHold();
      held = new Promise<void>((r) => (releaseHold = r));
    },
    nextRequest(n = requests.length + 1) {
      if (requests.length >= n) return Promise.resolve(requests[n - 1] as StubRequest);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        releaseHold();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A tool-call id unique per request (agents reject repeated ids within one conversation). */
let served = 0;
const ids = new WeakMap<StubRequest, number>();
function requestsSeen(record: StubRequest): number {
  if (!ids.has(record)) ids.set(record, ++served);
  return ids.get(record) as number;
}

function write(res: http.ServerResponse, record: StubRequest, text: string): void {
  if (res.destroyed) return;
  record.chunkTimes.push(performance.now());
  res.write(text);
}

function json(res: http.ServerResponse, record: StubRequest, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-request-id": "req_stub", "set-cookie": "stub=1" });
  record.chunkTimes.push(performance.now());
  res.end(text);
  record.completed = true;
}

async function answer(kind: "openai" | "anthropic", o: StubOptions, record: StubRequest, res: http.ServerResponse, held: () => Promise<void>): Promise<void> {
  const key = receivedKey(record.headers);
  const tag = o.tag ?? kind;
  const n = o.chunks ?? 5;
  const gap = o.chunkDelayMs ?? 0;
  const model = String(record.body.model ?? "none");
  if (o.failWith !== undefined) {
    const message = o.failWith === 401 ? `Incorrect API key provided: ${key}` : `internal failure while serving ${key}`;
    const body = kind === "anthropic" ? { type: "error", error: { type: o.failWith === 401 ? "authentication_error" : "api_error", message } } : { error: { message, type: "invalid_request_error", code: "invalid_api_key" } };
    json(res, record, o.failWith, body);
    return;
  }
  const requested = record.url.split("?")[0] ?? "";
  const path = o.root === undefined ? requested : requested.startsWith(`${o.root}/`) ? `/v1${requested.slice(o.root.length)}` : `(outside ${o.root})${requested}`;
  const pace = async (i: number) => {
    if (i === 1 && o.hold === true) await held();
    else if (gap > 0) await sleep(gap);
  };
  if (kind === "openai" && path === "/v1/models") return json(res, record, 200, { object: "list", data: [{ id: "stub-model", owned_by: key }] });
  if (kind === "openai" && path === "/v1/embeddings") return json(res, record, 200, { object: "list", model, data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2, 0.3] }], usage: { prompt_tokens: 3, total_tokens: 3 } });
  if (kind === "anthropic" && path === "/v1/messages/count_tokens") return json(res, record, 200, { input_tokens: 42 });
  if (kind === "openai" && path === "/api/chat") {
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    for (let i = 0; i < n; i++) {
      await pace(i);
      write(res, record, `${JSON.stringify({ model, message: { role: "assistant", content: `${tag}-${i} ` }, done: false })}\n`);
    }
    write(res, record, `${JSON.stringify({ model, done: true, prompt_eval_count: 11, eval_count: n })}\n`);
    res.end();
    record.completed = true;
    return;
  }
  const stream = record.body.stream === true;
  // An agent turn: first a tool call, then, once its result came back, text only.
  const exec = o.execCommand !== undefined && lastToolResult(record.body) === undefined ? JSON.stringify({ command: o.execCommand }) : undefined;
  const toolArgs = exec ?? '{"command":"ls"}';
  const withTool = o.execCommand !== undefined ? exec !== undefined : o.toolCall !== false;
  const texts = exec !== undefined ? 0 : n;
  if (kind === "openai" && path === "/v1/responses") {
    if (!stream) return json(res, record, 200, { id: "resp_1", object: "response", model, output: [{ type: "message", content: [{ type: "output_text", text: `${tag} says hi` }] }], usage: { input_tokens: 9, output_tokens: 4 } });
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (let i = 0; i < n; i++) {
      await pace(i);
      write(res, record, `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", delta: `${tag}-${i} ` })}\n\n`);
    }
    write(res, record, `event: response.completed\ndata: ${JSON.stringify({ type: "response.completed", response: { id: "resp_1", usage: { input_tokens: 9, output_tokens: n } } })}\n\n`);
    res.end();
    record.completed = true;
    return;
  }
  if (kind === "openai" && (path === "/v1/chat/completions" || path === "/v1/completions")) {
    if (!stream) {
      return json(res, record, 200, {
        id: "chatcmpl-1",
        object: "chat.completion",
        model,
        choices: [
          exec !== undefined
            ? { index: 0, message: { role: "assistant", content: null, tool_calls: [{ id: `call_${requestsSeen(record)}`, type: "function", function: { name: "exec", arguments: toolArgs } }] }, finish_reason: "tool_calls" }
            : { index: 0, message: { role: "assistant", content: `${tag} says hi` }, finish_reason: "stop" },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "set-cookie": "stub=1" });
    const chunk = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    if (o.script !== undefined) {
      const step = o.script(Array.isArray(record.body.messages) ? (record.body.messages as ChatMessage[]) : [], model);
      if ("text" in step) {
        write(res, record, chunk({ role: "assistant", content: step.text }));
        write(res, record, chunk({}, "stop"));
      } else {
        write(res, record, chunk({ role: "assistant", content: "" }));
        step.toolCalls.forEach((call, index) => {
          write(res, record, chunk({ tool_calls: [{ index, id: `call_${record.chunkTimes.length}_${index}`, type: "function", function: { name: call.name, arguments: JSON.stringify(call.arguments) } }] }));
        });
        write(res, record, chunk({}, "tool_calls"));
      }
      write(res, record, `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", model, choices: [], usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 } })}\n\n`);
      write(res, record, "data: [DONE]\n\n");
      res.end();
      record.completed = true;
      return;
    }
    if (texts === 0) write(res, record, chunk({ role: "assistant", content: "" }));
    for (let i = 0; i < texts; i++) {
      await pace(i);
      write(res, record, chunk(i === 0 ? { role: "assistant", content: `${tag}-${i} ` } : { content: `${tag}-${i} ` }));
    }
    if (withTool) {
      write(res, record, chunk({ tool_calls: [{ index: 0, id: `call_${requestsSeen(record)}`, type: "function", function: { name: "exec", arguments: toolArgs } }] }));
    }
    write(res, record, chunk({}, withTool ? "tool_calls" : "stop"));
    write(res, record, `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", model, choices: [], usage: { prompt_tokens: 12, completion_tokens: n, total_tokens: 12 + n } })}\n\n`);
    write(res, record, "data: [DONE]\n\n");
    res.end();
    record.completed = true;
    return;
  }
  if (kind === "anthropic" && path === "/v1/messages") {
    if (!stream) {
      const content = exec !== undefined ? [{ type: "tool_use", id: `toolu_${requestsSeen(record)}`, name: "exec", input: JSON.parse(toolArgs) as unknown }] : [{ type: "text", text: `${tag} says hi` }];
      return json(res, record, 200, { id: "msg_1", type: "message", role: "assistant", model, content, stop_reason: exec !== undefined ? "tool_use" : "end_turn", usage: { input_tokens: 10, output_tokens: 4 } });
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const ev = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify({ type, ...(data as object) })}\n\n`;
    write(res, record, ev("message_start", { message: { id: "msg_1", type: "message", role: "assistant", model, content: [], usage: { input_tokens: 10, output_tokens: 1 } } }));
    const toolIndex = texts > 0 ? 1 : 0;
    if (texts > 0) {
      write(res, record, ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
      for (let i = 0; i < texts; i++) {
        await pace(i);
        write(res, record, ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: `${tag}-${i} ` } }));
      }
      write(res, record, ev("content_block_stop", { index: 0 }));
    }
    if (withTool) {
      write(res, record, ev("content_block_start", { index: toolIndex, content_block: { type: "tool_use", id: `toolu_${requestsSeen(record)}`, name: "exec", input: {} } }));
      write(res, record, ev("content_block_delta", { index: toolIndex, delta: { type: "input_json_delta", partial_json: toolArgs } }));
      write(res, record, ev("content_block_stop", { index: toolIndex }));
    }
    write(res, record, ev("message_delta", { delta: { stop_reason: withTool ? "tool_use" : "end_turn" }, usage: { output_tokens: n } }));
    write(res, record, ev("message_stop", {}));
    res.end();
    record.completed = true;
    return;
  }
  json(res, record, 404, { error: { message: `stub has no ${path}` } });
}
