// The caller preamble's format, shared by the writer (the sandbox's forwarder, supervisor.ts) and
// the reader (gateway/caller.ts). Node built-ins only: this folder is staged into containers alone.

/**
 * The first line the sandbox's forwarder writes on every connection to proxy.sock, before the
 * client's own bytes: the sandbox's caller secret, then who is calling, as found by the forwarder
 * (a process the workload cannot tamper with) from /proc inside the sandbox.
 *
 *   NEMOCLAW-CALLER <64 hex: caller secret> {"pid":1234,"exe":"/usr/bin/curl","sha256":"…","ancestors":["/usr/bin/bash"],"unidentified":null}\n
 *
 * The secret is per sandbox and only the supervisor holds it (its configuration environment,
 * unreadable to the workload): a line without it did not come from the forwarder, whoever could
 * reach the socket. `exe` is the executable holding the connection and `sha256` its content;
 * `ancestors` are its parents' executables from nearest to farthest, stopping before the
 * supervisor (recorded and shown, never matched). An unidentified caller has `exe` null and says
 * why in `unidentified`: it matches no policy entry.
 */
export const PREAMBLE_PREFIX = "NEMOCLAW-CALLER ";
export const MAX_PREAMBLE_BYTES = 8192;
export const MAX_ANCESTORS = 64;
/** The caller secret: 32 random bytes, hex. */
export const CALLER_SECRET_PATTERN = /^[0-9a-f]{64}$/;
export const CALLER_SECRET_LENGTH = 64;

export interface Caller {
  pid: number | null;
  exe: string | null;
  /** sha256 (hex) of the executable's content, read through /proc/<pid>/exe. */
  sha256: string | null;
  ancestors: string[];
  /** Why the caller is unidentified (exe null): no holder, a holder that cannot be inspected, holders that disagree. */
  unidentified: string | null;
}

export function unidentifiedCaller(reason: string): Caller {
  return { pid: null, exe: null, sha256: null, ancestors: [], unidentified: reason };
}

/** The preamble line for `caller`, dropping the farthest ancestors until it fits the size limit. */
export function formatPreamble(secret: string, caller: Caller): string {
  const line = (c: Caller): string => `${PREAMBLE_PREFIX}${secret} ${JSON.stringify(c)}\n`;
  const fit: Caller = { ...caller, ancestors: [...caller.ancestors] };
  let text = line(fit);
  while (Buffer.byteLength(text) > MAX_PREAMBLE_BYTES && fit.ancestors.length > 0) {
    fit.ancestors.pop();
    text = line(fit);
  }
  return Buffer.byteLength(text) > MAX_PREAMBLE_BYTES ? line(unidentifiedCaller("the caller's identity is too long to send")) : text;
}
