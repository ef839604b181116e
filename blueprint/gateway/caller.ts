// Reads and validates the caller preamble the sandbox's forwarder writes first on every connection
// (format: supervisor/caller-preamble.ts).
import type { Socket } from "node:net";
import { z } from "zod";
import { MAX_ANCESTORS, MAX_PREAMBLE_BYTES, PREAMBLE_PREFIX, type Caller } from "../supervisor/caller-preamble.js";

export type { Caller } from "../supervisor/caller-preamble.js";

export const CallerSchema = z
  .object({
    pid: z.number().int().positive().nullable(),
    exe: z.string().startsWith("/").nullable(),
    ancestors: z.array(z.string().startsWith("/")).max(MAX_ANCESTORS),
  })
  .strict() satisfies z.ZodType<Caller>;

export const UNKNOWN_CALLER: Caller = { pid: null, exe: null, ancestors: [] };


/** Parse one preamble line (without its newline). Anything malformed is refused, never guessed. */
export function parsePreamble(line: string): Caller {
  if (!line.startsWith(PREAMBLE_PREFIX)) throw new Error("connection did not start with a caller preamble");
  return CallerSchema.parse(JSON.parse(line.slice(PREAMBLE_PREFIX.length)));
}

export interface ReadPreambleOptions {
  /** Give up when the line has not arrived by then. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Reads the preamble line off a fresh connection. Resolves with the caller and whatever bytes
 * followed the newline (the client's own request, to be replayed); rejects on a missing,
 * oversized, late or malformed preamble. Never reads past what the socket delivers.
 */
export function readPreamble(socket: Socket, options: ReadPreambleOptions = {}): Promise<{ caller: Caller; rest: Buffer }> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
      socket.off("close", onEnd);
    };
    const fail = (message: string): void => {
      cleanup();
      reject(new Error(message));
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(0x0a);
      if (newline === -1) {
        if (buffered.length >= MAX_PREAMBLE_BYTES) fail(`caller preamble longer than ${MAX_PREAMBLE_BYTES} bytes`);
        else if (buffered.length >= PREAMBLE_PREFIX.length && !buffered.subarray(0, PREAMBLE_PREFIX.length).equals(Buffer.from(PREAMBLE_PREFIX))) {
          fail("connection did not start with a caller preamble");
        }
        return;
      }
      if (newline >= MAX_PREAMBLE_BYTES) return fail(`caller preamble longer than ${MAX_PREAMBLE_BYTES} bytes`);
      cleanup();
      socket.pause();
      try {
        resolve({ caller: parsePreamble(buffered.subarray(0, newline).toString("utf8")), rest: buffered.subarray(newline + 1) });
      } catch (e) {
        reject(new Error(`malformed caller preamble: ${(e as Error).message.split("\n")[0]}`));
      }
    };
    const onEnd = (): void => fail("connection closed before the caller preamble");
    const timer = setTimeout(() => fail(`no caller preamble within ${timeoutMs} ms`), timeoutMs);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onEnd);
    socket.once("close", onEnd);
    // The daemon may have paused the socket while it got ready; a 'data' listener alone would not resume it.
    socket.resume();
  });
}
