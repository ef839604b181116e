import type { Socket } from "node:net";
import { z } from "zod";

/**
 * The first line the sandbox's forwarder writes on every connection to proxy.sock, before the
 * client's own bytes: who is calling, as found by the forwarder (a process the workload cannot
 * tamper with) from /proc inside the sandbox.
 *
 *   NEMOCLAW-CALLER {"pid":1234,"exe":"/usr/bin/curl","ancestors":["/usr/bin/bash","/usr/local/bin/node"]}\n
 *
 * `exe` is the caller's executable, `ancestors` its parents' executables from nearest to farthest,
 * stopping before the supervisor. Unknown identity is `{"pid":null,"exe":null,"ancestors":[]}`: it
 * matches no policy entry that names binaries.
 */
export const PREAMBLE_PREFIX = "NEMOCLAW-CALLER ";
export const MAX_PREAMBLE_BYTES = 8192;

export const CallerSchema = z
  .object({
    pid: z.number().int().positive().nullable(),
    exe: z.string().startsWith("/").nullable(),
    ancestors: z.array(z.string().startsWith("/")).max(64),
  })
  .strict();
export type Caller = z.infer<typeof CallerSchema>;

export const UNKNOWN_CALLER: Caller = { pid: null, exe: null, ancestors: [] };

export function formatPreamble(caller: Caller): string {
  return `${PREAMBLE_PREFIX}${JSON.stringify(caller)}\n`;
}

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
