import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The installed nemoclaw package's root: the nearest package.json named "nemoclaw" above this file. */
function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "package.json");
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, "utf8")) as { name?: string }).name === "nemoclaw") {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("nemoclaw's package.json not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const packageVersion = (JSON.parse(readFileSync(path.join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
/** The sealed, compiled runtime that the plugin verifies and then runs. */
export const blueprintDir = path.join(packageRoot, "dist", "blueprint");
export const policiesDir = path.join(packageRoot, "policies");
