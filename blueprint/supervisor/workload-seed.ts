// A file the workload finds in place before it starts: OpenClaw's config (the gateway's, with its
// token and models, in a gateway sandbox; otherwise the one line sending OpenClaw's own traffic
// through the forwarder). Written by the supervisor as the workload, before each start of it,
// unless it exists: from then on it is the workload's, which may rewrite it.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { asUser } from "./identify.js";

export interface WorkloadSeed {
  /** Absolute path inside. */
  path: string;
  content: string;
}

export function parseSeed(raw: unknown): WorkloadSeed | undefined {
  if (raw === undefined || raw === null) return undefined;
  const s = raw as Partial<WorkloadSeed>;
  if (typeof s.path !== "string" || !s.path.startsWith("/") || typeof s.content !== "string") {
    throw new Error("config.seed must give an absolute path and the content");
  }
  return { path: s.path, content: s.content };
}

/**
 * Writes the file (0600, its folder 0700) as the workload, unless it exists. As the workload: a
 * link it left in /sandbox on an earlier run leads nowhere it could not write itself.
 */
export function seedWorkloadFile(seed: WorkloadSeed, workload: { uid: number; gid: number }): void {
  // No existsSync: it asks access(2), which checks the real uid (root, who cannot enter /sandbox).
  asUser(workload, () => {
    mkdirSync(path.dirname(seed.path), { recursive: true, mode: 0o700 });
    chmodSync(path.dirname(seed.path), 0o700);
    try {
      writeFileSync(seed.path, seed.content, { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  });
}
