import { existsSync, readFileSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { findPoliciesDir } from "../policy/presets.js";

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

/**
 * A copy of the supervisor's files under <stateDir>/runtime/<digest>/, for sandboxes to mount.
 * The plugin's own folder is no place to mount from: OpenClaw may run a plugin from a
 * per-invocation copy that is gone when the CLI exits, and an upgrade replaces the folder under
 * a running container. The copy is named by the sealed digest, so each build gets its own and a
 * sandbox keeps the one it started with. The supervisor needs nothing else: it imports only
 * Node's built-ins. The shipped policies/ sit beside it, for the daemon (`stagedPresetsDir`).
 */
export async function stageSupervisor(stateDir: string): Promise<string> {
  const { digest } = runtimeIdentity();
  const dir = path.join(stateDir, "runtime", digest.slice(0, 16));
  if (existsSync(path.join(dir, "supervisor", "supervisor.js"))) return dir;

  await mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  const tmp = await mkdtemp(`${dir}.tmp-`);
  try {
    await cp(path.join(compiledBlueprintDir(), "supervisor"), path.join(tmp, "supervisor"), { recursive: true });
    // The presets too: the daemon reads them long after the CLI that started it (and its copy of
    // the plugin) is gone.
    await cp(findPoliciesDir(), path.join(tmp, "policies"), { recursive: true });
    // Read by root inside the container, which has no CAP_DAC_OVERRIDE.
    await chmod(tmp, 0o755);
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      // Another process staged the same digest first.
      if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** The presets in the staged copy: what the daemon offers `policy add-preset`. */
export function stagedPresetsDir(stagedDir: string): string {
  return path.join(stagedDir, "policies", "presets");
}
