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
