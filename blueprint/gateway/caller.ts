// Reads and validates the caller preamble the sandbox's forwarder writes first on every connection
// (format: supervisor/caller-preamble.ts). The caller secret is checked (in constant time) before
// anything else in the line is looked at.
import { timingSafeEqual } from "node:crypto";
import type { Socket } from "node:net";
import { z } from "zod";
import { CALLER_SECRET_LENGTH, MAX_ANCESTORS, MAX_PREAMBLE_BYTES, PREAMBLE_PREFIX, type Caller } from "../supervisor/caller-preamble.js";

export type { Caller } from "../supervisor/caller-preamble.js";
export { unidentifiedCaller } from "../supervisor/caller-preamble.js";

export const CallerSchema = z
  .object({
    pid: z.number().int().positive().nullable(),
    exe: z.string().startsWith("/").nullable(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    ancestors: z.array(z.string().startsWith("/")).max(MAX_ANCESTORS),
    unidentified: z.string().max(4096).nullable(),
  })
  .strict()
  .refine((c) => (c.exe === null) === (c.sha256 === null), "exe and sha256 come together") satisfies z.ZodType<Caller>;

/** A preamble whose secret is missing or wrong: the connection did not come from the sandbox's forwarder. */
export class CallerSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CallerSecretError";
  }
}

/** Compares the presented secret with the sandbox's, in time independent of where they differ. */
export type SecretCheck = (presented: Buffer) => boolean;

/** A SecretCheck for `secret` (64 hex digits). */
export function secretCheck(secret: string): SecretCheck {
  const expected = Buffer.from(secret, "utf8");
  return (presented) => presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** Parse one preamble line (without its newline). Anything malformed is refused, never guessed. */
export function parsePreamble(line: string, check: SecretCheck): Caller {
  if (!line.startsWith(PREAMBLE_PREFIX)) throw new Error("connection did not start with a caller preamble");
  const rest = line.slice(PREAMBLE_PREFIX.length);
  const space = rest.indexOf(" ");
  const presented = space === CALLER_SECRET_LENGTH ? Buffer.from(rest.slice(0, space), "utf8") : undefined;
  if (presented === undefined) throw new CallerSecretError("the caller preamble carries no caller secret: only the sandbox's forwarder may connect to the proxy socket");
  if (!check(presented)) throw new CallerSecretError("the caller secret does not match this sandbox's: only the sandbox's forwarder may connect to the proxy socket");
  try {
    return CallerSchema.parse(JSON.parse(rest.slice(space + 1)));
  } catch (e) {
    throw new Error(`malformed caller preamble: ${(e as Error).message.split("\n")[0]}`);
  }
}

export interface ReadPreambleOptions {
  /** The sandbox's caller secret, checked before anything else. */
  secret: SecretCheck;
  /** Give up when the line has not arrived by then. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Reads the preamble line off a fresh connection. Resolves with the caller and whatever bytes
 * followed the newline (the client's own request, to be replayed); rejects on a missing,
 * oversized, late or malformed preamble. Never reads past what the socket delivers.
 */
export function readPreamble(socket: Socket, options: ReadPreambleOptions): Promise<{ caller: Caller; rest: Buffer }> {
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
        resolve({ caller: parsePreamble(buffered.subarray(0, newline).toString("utf8"), options.secret), rest: buffered.subarray(newline + 1) });
      } catch (e) {
        reject(e as Error);
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
