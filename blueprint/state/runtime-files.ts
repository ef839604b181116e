// Where the runtime's own files are: the package root, the compiled runtime (dist/blueprint:
// what the daemon runs from, what the image is built from and what sandboxes mount) and the
// shipped policies. One walk up from this module finds them all, running compiled or from the
// sources (tests), and from a bundle as well.
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** The nearest ancestor of `from` (inclusive) for which `holds` is true. */
export function findAbove(from: string, holds: (dir: string) => boolean): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (holds(dir)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The nemoclaw package this module belongs to: the folder with package.json and policies/. */
export function packageRootDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = findAbove(here, (dir) => existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "policies", "openclaw-sandbox.yaml")));
  if (!root) throw new Error(`the nemoclaw package (package.json beside policies/) was not found above ${here}`);
  return root;
}

/** The shipped policies: the base policy and presets/. */
export function policiesDir(): string {
  return path.join(packageRootDir(), "policies");
}

/**
 * The compiled runtime, `<package>/dist/blueprint`, which `npm run build` produces and seals.
 * Tests running from the sources use the same folder, so they must build first.
 */
export function compiledBlueprintDir(): string {
  const dir = path.join(packageRootDir(), "dist", "blueprint");
  if (!existsSync(path.join(dir, "supervisor", "supervisor.js")) || !existsSync(path.join(dir, "blueprint.yaml"))) {
    throw new Error(`the compiled runtime (${dir}) is missing; run \`npm run build\``);
  }
  return dir;
}

/** Version and sealed digest of the compiled runtime; the digest tells one build from another. */
export function runtimeIdentity(dir: string = compiledBlueprintDir()): { version: string; digest: string } {
  const manifest = parse(readFileSync(path.join(dir, "blueprint.yaml"), "utf8")) as { version?: string; digest?: string };
  return { version: manifest.version ?? "unknown", digest: manifest.digest ?? "unsealed" };
}

/**
 * A copy of the shipped presets under <stateDir>/runtime/<digest>/policies/presets, for the
 * daemon's `policy add-preset`: it reads them long after the CLI that started it is gone, and
 * OpenClaw may run a plugin from a per-invocation copy that is deleted when the CLI exits. Named
 * by the sealed digest, so each build gets its own. (The supervisor reaches containers through a
 * staged Docker volume instead: sandbox/staged-volume.ts.)
 */
export async function stagePresets(stateDir: string): Promise<string> {
  const { digest } = runtimeIdentity();
  const dir = path.join(stateDir, "runtime", digest.slice(0, 16));
  const presets = path.join(dir, "policies", "presets");
  if (existsSync(presets)) return presets;

  await mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(`${dir}.tmp-`);
  try {
    await cp(policiesDir(), path.join(tmp, "policies"), { recursive: true });
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      // Another process staged the same digest first.
      if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return presets;
}
