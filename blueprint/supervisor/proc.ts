// Reading /proc inside the sandbox, for the forwarder's caller identification (identify.ts) and
// the status report (inspect.ts). Node built-ins only.
import { readFileSync } from "node:fs";

/** A /proc file's text, or undefined when it cannot be read (gone, or another user's). */
export function readProcFile(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/status as name → value (`Uid`, `PPid`, `CapEff`, …); empty when unreadable. */
export function procStatus(pid: number | string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (readProcFile(`/proc/${pid}/status`) ?? "").split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}
