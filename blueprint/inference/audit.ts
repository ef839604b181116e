// The inference audit log: `<stateDir>/sandboxes/<name>/inference/inference.jsonl`, one JSON line
// per call — who, which provider and model, status, latency, time to first token, tokens, bytes —
// and never a prompt, a completion or a key. Rotated by size like the egress log (`file.1` …
// `file.N`); writes are batched per event-loop turn and never throw into a request.
import { createReadStream } from "node:fs";
import { mkdir, open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";
import { sandboxDir } from "../state/paths.js";

export const InferenceEventSchema = z.strictObject({
  time: z.string(),
  sandbox: z.string(),
  endpoint: z.string(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  /** ok: answered; upstream_error: the provider said no; refused: the router said no; … */
  outcome: z.enum(["ok", "upstream_error", "refused", "unreachable", "idle_timeout", "client_closed"]),
  status: z.number().int(),
  reason: z.string().optional(),
  stream: z.boolean(),
  latencyMs: z.number(),
  ttftMs: z.number().optional(),
  tokens: z.strictObject({ input: z.number().optional(), output: z.number().optional() }).optional(),
  bytesUp: z.number().int(),
  bytesDown: z.number().int(),
});
export type InferenceEvent = z.infer<typeof InferenceEventSchema>;

export function inferenceLogFile(stateDir: string, sandbox: string): string {
  return path.join(sandboxDir(stateDir, sandbox), "inference", "inference.jsonl");
}

export interface RotationOptions {
  /** Rotate when the file reaches this size. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept. Default 5. */
  keep?: number;
}

export class InferenceAuditLog {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #pending: string[] = [];
  #chain: Promise<void> = Promise.resolve();
  #size = -1;
  #scheduled = false;
  #handle: FileHandle | undefined;
  onError: (error: Error) => void = () => {};

  constructor(file: string, options: RotationOptions = {}) {
    this.file = file;
    this.#maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.#keep = options.keep ?? 5;
  }

  write(event: InferenceEvent): void {
    this.#pending.push(`${JSON.stringify(event)}\n`);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#chain = this.#chain.then(() => this.#drain()).catch((e: unknown) => this.onError(e as Error));
    });
  }

  /** Resolves once everything written so far is on disk. */
  async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.#chain = this.#chain.then(() => this.#drain()).catch((e: unknown) => this.onError(e as Error));
    await this.#chain;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#handle?.close();
    this.#handle = undefined;
  }

  async #drain(): Promise<void> {
    if (this.#size < 0) {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      this.#size = await stat(this.file).then((s) => s.size, () => 0);
    }
    const lines = this.#pending;
    this.#pending = [];
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (this.#size > 0 && this.#size + bytes > this.#maxBytes) await this.#rotate();
      this.#handle ??= await open(this.file, "a", 0o600);
      await this.#handle.appendFile(line);
      this.#size += bytes;
    }
  }

  async #rotate(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
    await unlink(`${this.file}.${this.#keep}`).catch(() => {});
    for (let i = this.#keep - 1; i >= 1; i--) await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch(() => {});
    if (this.#keep > 0) await rename(this.file, `${this.file}.1`).catch(() => {});
    else await unlink(this.file).catch(() => {});
    this.#size = 0;
  }
}

/** Reads the events back, oldest rotated file first, for `logs --inference`; torn lines are skipped. */
export async function readInferenceEvents(file: string, keep = 5): Promise<InferenceEvent[]> {
  const files = [...Array.from({ length: keep }, (_, i) => `${file}.${keep - i}`), file];
  const events: InferenceEvent[] = [];
  for (const f of files) {
    if (!(await stat(f).then(() => true, () => false))) continue;
    for await (const line of createInterface({ input: createReadStream(f, "utf8"), crlfDelay: Infinity })) {
      if (line.trim() === "") continue;
      try {
        const parsed = InferenceEventSchema.safeParse(JSON.parse(line));
        if (parsed.success) events.push(parsed.data);
      } catch {
        // a torn last line after a crash
      }
    }
  }
  return events;
}
