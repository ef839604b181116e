// The caller preamble's format, shared by the writer (the sandbox's forwarder, supervisor.ts) and
// the reader (gateway/caller.ts). Node built-ins only: this folder is staged into containers alone.

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
export const MAX_ANCESTORS = 64;

export interface Caller {
  pid: number | null;
  exe: string | null;
  ancestors: string[];
}

/** The preamble line for `caller`, dropping the farthest ancestors until it fits the size limit. */
export function formatPreamble(caller: Caller): string {
  const line = (c: Caller): string => `${PREAMBLE_PREFIX}${JSON.stringify(c)}\n`;
  const fit: Caller = { pid: caller.pid, exe: caller.exe, ancestors: [...caller.ancestors] };
  let text = line(fit);
  while (Buffer.byteLength(text) > MAX_PREAMBLE_BYTES && fit.ancestors.length > 0) {
    fit.ancestors.pop();
    text = line(fit);
  }
  return Buffer.byteLength(text) > MAX_PREAMBLE_BYTES ? line({ pid: null, exe: null, ancestors: [] }) : text;
}

