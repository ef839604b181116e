// Token counts for the audit log, read from what the provider already sends: the `usage` of a
// JSON response, the final SSE events of a stream (OpenAI's last chunk, Responses'
// `response.completed`, Anthropic's `message_start` + `message_delta`), or Ollama's closing
// NDJSON line. Only numbers are kept; the text around them is dropped as it streams past.

export interface Tokens {
  input?: number;
  output?: number;
}

const MAX_LINE = 1024 * 1024;
const MAX_JSON = 4 * 1024 * 1024;

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Folds one parsed JSON object (a response, an SSE event, an NDJSON line) into `tokens`. */
export function readUsage(obj: unknown, tokens: Tokens): void {
  if (typeof obj !== "object" || obj === null) return;
  const o = obj as Record<string, unknown>;
  const usages = [o.usage, (o.message as Record<string, unknown> | undefined)?.usage, (o.response as Record<string, unknown> | undefined)?.usage];
  for (const u of usages) {
    if (typeof u !== "object" || u === null) continue;
    const x = u as Record<string, unknown>;
    const input = num(x.prompt_tokens) ?? num(x.input_tokens);
    const output = num(x.completion_tokens) ?? num(x.output_tokens);
    if (input !== undefined) tokens.input = input;
    if (output !== undefined) tokens.output = output;
  }
  // count_tokens answers `{input_tokens}`; Ollama's native final line has eval counts.
  if (num(o.input_tokens) !== undefined) tokens.input = num(o.input_tokens);
  if (num(o.prompt_eval_count) !== undefined) tokens.input = num(o.prompt_eval_count);
  if (num(o.eval_count) !== undefined) tokens.output = num(o.eval_count);
}

/** Watches a response body go by and keeps the token counts. */
export class UsageMeter {
  readonly tokens: Tokens = {};
  readonly #mode: "sse" | "ndjson" | "json" | "none";
  #partial = "";
  #json: Buffer[] = [];
  #jsonBytes = 0;
  readonly #decoder = new TextDecoder();

  constructor(contentType: string | undefined) {
    const ct = (contentType ?? "").toLowerCase();
    this.#mode = ct.includes("text/event-stream") ? "sse" : ct.includes("ndjson") ? "ndjson" : ct.includes("json") ? "json" : "none";
  }

  push(chunk: Buffer): void {
    if (this.#mode === "none") return;
    if (this.#mode === "json") {
      this.#jsonBytes += chunk.length;
      if (this.#jsonBytes <= MAX_JSON) this.#json.push(chunk);
      return;
    }
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#partial = lines.pop() ?? "";
    if (this.#partial.length > MAX_LINE) this.#partial = "";
    for (const line of lines) this.#line(line);
  }

  end(): Tokens {
    if (this.#mode === "json" && this.#jsonBytes <= MAX_JSON) {
      try {
        readUsage(JSON.parse(Buffer.concat(this.#json).toString("utf8")), this.tokens);
      } catch {
        // not JSON after all: no counts
      }
    } else if (this.#partial !== "") {
      this.#line(this.#partial);
    }
    this.#json = [];
    return this.tokens;
  }

  #line(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    let data = line;
    if (this.#mode === "sse") {
      if (!line.startsWith("data:")) return;
      data = line.slice(5).trimStart();
    }
    if (!data.includes("usage") && !data.includes("_count") && !data.includes("input_tokens")) return;
    try {
      readUsage(JSON.parse(data), this.tokens);
    } catch {
      // `[DONE]` or a partial line
    }
  }
}
