// Append-only JSON-lines logs rotated by size (`file.1` … `file.N`), shared by the egress audit
// log and the inference audit log. Writes are batched, one per event-loop turn or, with
// `batchMs`, one per that many milliseconds, and never throw into the caller: a failed write is reported through `onError`. Files are 0600 in a 0700 folder.
import { createReadStream } from "node:fs";
import { mkdir, open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import type { z } from "zod";

export interface RotationOptions {
  /** Rotate when the file reaches this size. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept (`file.1` … `file.N`). Default 5. */
  keep?: number;
}

export interface JsonlLogOptions extends RotationOptions {
  /** Gather records this long before writing them (default 0: at the end of the event-loop turn). */
  batchMs?: number;
}

export class JsonlLog {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #batchMs: number;
  #pending: string[] = [];
  #chain: Promise<void> = Promise.resolve();
  #size = -1;
  #scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #handle: FileHandle | undefined;
  onError: (error: Error) => void = () => {};

  constructor(file: string, options: JsonlLogOptions = {}) {
    this.file = file;
    this.#maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.#keep = options.keep ?? 5;
    this.#batchMs = options.batchMs ?? 0;
  }

  /** Queues one record (JSON-serialised onto one line). */
  protected append(record: unknown): void {
    this.#pending.push(`${JSON.stringify(record)}\n`);
    if (this.#scheduled !== undefined) return;
    const drain = () => {
      this.#scheduled = undefined;
      this.#chain = this.#chain.then(() => this.#drain()).catch((e: unknown) => this.onError(e as Error));
    };
    this.#scheduled = this.#batchMs > 0 ? setTimeout(drain, this.#batchMs) : setImmediate(drain);
  }

  /** Resolves once everything written so far is on disk (a batch still gathering is written now). */
  async flush(): Promise<void> {
    if (this.#batchMs > 0) {
      clearTimeout(this.#scheduled as NodeJS.Timeout | undefined);
      this.#scheduled = undefined;
    }
    await new Promise((r) => setImmediate(r));
    this.#chain = this.#chain.then(() => this.#drain()).catch((e: unknown) => this.onError(e as Error));
    await this.#chain;
  }

  /** Flushes and closes the file (it reopens on the next write). */
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
    while (this.#pending.length > 0) {
      const lines = this.#pending;
      this.#pending = [];
      // Group lines into writes that fit the current file; rotate between groups.
      let chunk = "";
      let chunkBytes = 0;
      for (const line of lines) {
        const bytes = Buffer.byteLength(line);
        if (this.#size + chunkBytes + bytes > this.#maxBytes && this.#size + chunkBytes > 0) {
          if (chunk !== "") await this.#write(chunk);
          await this.#rotate();
          chunk = "";
          chunkBytes = 0;
        }
        chunk += line;
        chunkBytes += bytes;
      }
      if (chunk !== "") {
        await this.#write(chunk);
        this.#size += chunkBytes;
      }
    }
  }

  async #write(text: string): Promise<void> {
    this.#handle ??= await open(this.file, "a", 0o600);
    await this.#handle.appendFile(text);
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

/** Reads the records back, oldest rotated file first; lines that do not parse (a torn last line after a crash) are skipped. */
export async function readJsonl<S extends z.ZodType>(file: string, schema: S, keep = 5): Promise<Array<z.infer<S>>> {
  const files = [...Array.from({ length: keep }, (_, i) => `${file}.${keep - i}`), file];
  const records: Array<z.infer<S>> = [];
  for (const f of files) {
    if (!(await stat(f).then(() => true, () => false))) continue;
    for await (const line of createInterface({ input: createReadStream(f, "utf8"), crlfDelay: Infinity })) {
      if (line.trim() === "") continue;
      try {
        const parsed = schema.safeParse(JSON.parse(line));
        if (parsed.success) records.push(parsed.data);
      } catch {
        // not JSON: skip it
      }
    }
  }
  return records;
}
