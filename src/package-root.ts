import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function packageJson(dir: string): { name?: string; version?: string } | undefined {
  const file = path.join(dir, "package.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
  } catch {
    return undefined;
  }
}

/** The nearest folder at or above `start` whose package.json is named `name`. */
export function findPackageAbove(start: string, name: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (packageJson(dir)?.name === name) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The version in `dir`/package.json, if it has one. */
export function packageVersionOf(dir: string): string | undefined {
  return packageJson(dir)?.version;
}

function findPackageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = findPackageAbove(here, "nemoclaw");
  if (!root) throw new Error(`nemoclaw's package.json not found above ${here}`);
  return root;
}

/** The installed nemoclaw package's root. */
export const packageRoot = findPackageRoot();
export const packageVersion = packageVersionOf(packageRoot) ?? "0.0.0";
/** The sealed, compiled runtime that the plugin verifies and then runs. */
export const blueprintDir = path.join(packageRoot, "dist", "blueprint");
