import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

function packageNamed(dir: string, name: string): boolean {
  const file = path.join(dir, "package.json");
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === name;
  } catch {
    return false;
  }
}

function findUp(start: string, name: string): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (packageNamed(dir, name)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Root of the `openclaw` package this CLI runs from, so the sandbox mounts the same version: the
 * package above the running script (process.argv[1], symlinks resolved), else the one this
 * plugin resolves. Undefined when neither is found (the sandbox is then created without it).
 */
export function openclawPackageDir(argv1: string | undefined = process.argv[1]): string | undefined {
  if (argv1) {
    try {
      const found = findUp(path.dirname(realpathSync(argv1)), "openclaw");
      if (found) return found;
    } catch {
      // not a file: fall through
    }
  }
  try {
    const entry = createRequire(import.meta.url).resolve("openclaw");
    return findUp(path.dirname(entry), "openclaw");
  } catch {
    return undefined;
  }
}
