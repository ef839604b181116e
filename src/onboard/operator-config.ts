// The operator's own OpenClaw config on the host: read (JSON5, as OpenClaw writes it) to see
// what it implies for the sandbox, and snapshotted byte for byte into nemoclaw's state dir the
// first time onboarding runs, so a later eject can put it back exactly. Onboarding never writes
// it; recording that nemoclaw is enabled goes through the launch adapter.
import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import JSON5 from "json5";
import { openclawStateDir } from "../config/resolve.js";
import { UserError } from "../errors.js";

export function operatorConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENCLAW_CONFIG_PATH ? path.resolve(env.OPENCLAW_CONFIG_PATH) : path.join(openclawStateDir(env), "openclaw.json");
}

export type OperatorConfig = { file: string; exists: boolean; config: Record<string, unknown> };

export async function readOperatorConfig(file = operatorConfigFile()): Promise<OperatorConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { file, exists: false, config: {} };
    throw e;
  }
  try {
    const config = JSON5.parse(text) as unknown;
    return { file, exists: true, config: typeof config === "object" && config !== null ? (config as Record<string, unknown>) : {} };
  } catch (e) {
    throw new UserError(`your OpenClaw config ${file} does not parse: ${(e as Error).message}`, "fix it (`openclaw config validate`), then run onboard again");
  }
}

/** Presets the operator's config implies: a configured channel needs that service's endpoints. */
export function impliedPresets(config: Record<string, unknown>): string[] {
  const channels = (config.channels ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  for (const name of ["telegram", "slack", "discord"]) {
    const c = channels[name] as { enabled?: unknown } | undefined;
    if (c && c.enabled !== false) out.push(name);
  }
  return out;
}

/** The operator's file as the first onboarding found it, byte for byte. */
export function snapshotFile(stateDir: string): string {
  return path.join(stateDir, "onboard", "host-openclaw.json.snapshot");
}

/** The same file right after that onboarding's own change: what eject compares the current file with. */
export function onboardedCopyFile(stateDir: string): string {
  return path.join(stateDir, "onboard", "host-openclaw.json.onboarded");
}

/**
 * Keeps the file as onboarding left it, next to the snapshot, in the run that made the snapshot
 * only: a later run's copy could hold edits of the operator's own, which eject must carry over.
 */
export async function recordOnboardedConfig(stateDir: string, file: string): Promise<void> {
  await copyFile(file, onboardedCopyFile(stateDir));
}

/** `<stateDir>/onboard/host-openclaw.json.snapshot`, made once (the first onboarding's view of the file). */
export async function snapshotOperatorConfig(stateDir: string, file: string): Promise<{ snapshot: string; made: boolean }> {
  const snapshot = snapshotFile(stateDir);
  if (await stat(snapshot).then(() => true, () => false)) return { snapshot, made: false };
  await mkdir(path.dirname(snapshot), { recursive: true, mode: 0o700 });
  // COPYFILE_EXCL: two onboardings at once never overwrite the first snapshot.
  await copyFile(file, snapshot, 1).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
  });
  return { snapshot, made: true };
}
