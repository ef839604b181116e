import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { findPackageAbove, packageVersionOf } from "./package-root.js";

/**
 * Root of the `openclaw` package this CLI runs from, so the sandbox mounts the same version: the
 * package above the running script (process.argv[1], symlinks resolved), else the one this
 * plugin resolves. Undefined when neither is found (the sandbox is then created without it).
 */
export function openclawPackageDir(argv1: string | undefined = process.argv[1]): string | undefined {
  if (argv1) {
    try {
      const found = findPackageAbove(path.dirname(realpathSync(argv1)), "openclaw");
      if (found) return found;
    } catch {
      // not a file: fall through
    }
  }
  try {
    return findPackageAbove(path.dirname(createRequire(import.meta.url).resolve("openclaw")), "openclaw");
  } catch {
    return undefined;
  }
}

/** The version of the OpenClaw running this plugin, when it can be found. */
export function openclawVersion(): string | undefined {
  const dir = openclawPackageDir();
  return dir === undefined ? undefined : packageVersionOf(dir);
}
