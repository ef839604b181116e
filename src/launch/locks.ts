import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

/**
 * OpenClaw's gateway lock files (`<OpenClaw state>/tmp/openclaw-<uid>/gateway.*.lock`, JSON with
 * the owner's pid) survive execve and would name a process that is no longer a host gateway.
 */
export function removeLocksOf(pid: number, lockDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(lockDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => n.endsWith(".lock"))) {
    const file = path.join(lockDir, name);
    try {
      const owner = (JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown }).pid;
      if (owner !== pid) continue;
      rmSync(file, { force: true });
      removed.push(file);
    } catch {
      // not a JSON lock of OpenClaw's: not ours to touch
    }
  }
  return removed;
}
