import * as realFs from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { RuntimeError } from "./runtime-error.js";
import { writeFileAtomic, type FsPromises } from "./atomic-write.js";

/**
 * A JSON state file with a schema. Missing → the given default. Unreadable or invalid → the file
 * is moved aside (kept, never deleted) and a RuntimeError says where it went and what to do, so
 * the next run starts clean instead of failing the same way forever.
 */
export class StateFile<T> {
  readonly file: string;
  readonly #schema: z.ZodType<T>;
  readonly #fs: FsPromises;
  constructor(file: string, schema: z.ZodType<T>, fs: FsPromises = realFs) {
    this.file = file;
    this.#schema = schema;
    this.#fs = fs;
  }

  async read(fallback: () => T, recovery: string): Promise<T> {
    let text: string;
    try {
      text = await this.#fs.readFile(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return fallback();
      throw new RuntimeError("state-unreadable", `cannot read ${this.file}: ${(e as Error).message}`, `check its permissions; ${recovery}`);
    }
    let problem: string;
    try {
      const parsed = this.#schema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      problem = `${issue?.path.join(".") || "(root)"}: ${issue?.message}`;
    } catch (e) {
      problem = `not JSON (${(e as Error).message})`;
    }
    const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    await this.#fs.rename(this.file, aside);
    throw new RuntimeError(
      "state-corrupt",
      `${this.file} was corrupted (${problem}); it was moved to ${aside}`,
      recovery,
    );
  }

  async write(value: T): Promise<void> {
    const checked = this.#schema.parse(value);
    await ensureStateDir(path.dirname(this.file), this.#fs);
    await writeFileAtomic(this.file, `${JSON.stringify(checked, null, 2)}\n`, { fs: this.#fs });
  }
}

/** The state directory exists and only its owner can enter it (0700), whatever it was before. */
export async function ensureStateDir(dir: string, fs: FsPromises = realFs): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const mode = (await fs.stat(dir)).mode & 0o777;
  if (mode !== 0o700) await fs.chmod(dir, 0o700);
}
