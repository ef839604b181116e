// Binary content identity, trust on first use: the first time a sandbox's forwarder names an
// executable path, the gateway pins that path to the sha256 the forwarder read through
// /proc/<pid>/exe; later a different file at the same path is not that binary — the caller is
// treated as unidentified, so no `binaries` entry matches it. A copy of an allowed binary at
// another path is not it either: path globs still decide, the hash only narrows them.
//
// Pins live for the sandbox's lifetime in <egress state dir>/binaries.json (0600, written
// atomically), so re-creating the container keeps them; removing the sandbox drops them.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../state/atomic-write.js";
import { unidentifiedCaller, type Caller } from "./caller.js";

/** More distinct executable paths than this in one sandbox are refused (the file would grow without bound). */
export const MAX_PINS = 4096;

const PinsFileSchema = z.strictObject({
  version: z.literal(1),
  pins: z.record(z.string().startsWith("/"), z.string().regex(/^[0-9a-f]{64}$/)),
});

export class BinaryPins {
  readonly file: string;
  readonly #pins: Map<string, string>;
  #chain: Promise<void> = Promise.resolve();

  private constructor(file: string, pins: Map<string, string>) {
    this.file = file;
    this.#pins = pins;
  }

  static async open(stateDir: string): Promise<BinaryPins> {
    const file = path.join(stateDir, "binaries.json");
    const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
    const pins = text === undefined ? {} : PinsFileSchema.parse(JSON.parse(text)).pins;
    return new BinaryPins(file, new Map(Object.entries(pins)));
  }

  get(exe: string): string | undefined {
    return this.#pins.get(exe);
  }

  /**
   * The caller as the policy should see it: itself when its executable is the file pinned at
   * that path (pinning it now on first use), unidentified otherwise.
   */
  vet(caller: Caller): Caller {
    if (caller.exe === null || caller.sha256 === null) return caller;
    const pinned = this.#pins.get(caller.exe);
    if (pinned === caller.sha256) return caller;
    if (pinned !== undefined) {
      return {
        ...unidentifiedCaller(
          `${caller.exe} (pid ${caller.pid}) is not the file first seen at that path: sha256 ${caller.sha256.slice(0, 16)}… now, ${pinned.slice(0, 16)}… pinned on first use`,
        ),
        pid: caller.pid,
        ancestors: caller.ancestors,
      };
    }
    if (this.#pins.size >= MAX_PINS) return { ...unidentifiedCaller(`more than ${MAX_PINS} distinct executables have connected from this sandbox; ${caller.exe} is not pinned`), pid: caller.pid };
    this.#pins.set(caller.exe, caller.sha256);
    void this.persist().catch(() => undefined);
    return caller;
  }

  /** Writes the pins (atomically; writes are serialised). */
  persist(): Promise<void> {
    const text = `${JSON.stringify({ version: 1, pins: Object.fromEntries(this.#pins) }, null, 2)}\n`;
    this.#chain = this.#chain.catch(() => undefined).then(() => writeFileAtomic(this.file, text, { mode: 0o600 }));
    return this.#chain;
  }

  /** Resolves once every pin so far is on disk. */
  flushed(): Promise<void> {
    return this.#chain;
  }
}
