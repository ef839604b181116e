import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/**
 * The compiled runtime (dist/blueprint): what the daemon runs from and what sandboxes mount at
 * /opt/nemoclaw. Running compiled, that is the folder above this file; running from the sources
 * (tests), the package's dist/blueprint, which `npm run build` must have produced.
 */
export function compiledBlueprintDir(): string {
  const candidates = [new URL("../", import.meta.url), new URL("../../dist/blueprint/", import.meta.url)];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (existsSync(path.join(dir, "supervisor", "supervisor.js")) && existsSync(path.join(dir, "runtime", "main.js"))) {
      return path.resolve(dir);
    }
  }
  throw new Error(`the compiled runtime (dist/blueprint) was not found next to ${fileURLToPath(import.meta.url)}; run \`npm run build\``);
}

/** Version and sealed digest of the compiled runtime; the digest tells one build from another. */
export function runtimeIdentity(dir: string = compiledBlueprintDir()): { version: string; digest: string } {
  const manifest = parse(readFileSync(path.join(dir, "blueprint.yaml"), "utf8")) as { version?: string; digest?: string };
  return { version: manifest.version ?? "unknown", digest: manifest.digest ?? "unsealed" };
}
