// Putting the operator's OpenClaw config back the way it was before onboarding (eject,
// uninstall). Onboarding kept the file's bytes (`onboard/host-openclaw.json.snapshot`) and what
// it looked like after its own change (`…onboarded`, src/onboard/operator-config.ts). When the
// operator changed nothing else since, the snapshot's bytes go back exactly; otherwise their
// changes are merged onto it (config-merge.ts) and named. What was there is kept as a backup
// beside the file first, and the new file replaces it atomically with the same mode.
import { randomBytes } from "node:crypto";
import { chmod, copyFile, open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import JSON5 from "json5";
import { UserError } from "../errors.js";
import { onboardedCopyFile, operatorConfigFile, snapshotFile } from "../onboard/operator-config.js";
import { assumedOurs, formatPath, jsonEqual, mergeHostConfig, withoutOwned, type JsonObject } from "./config-merge.js";

export type RestoreOutcome = {
  file: string;
  /** restored: the snapshot's bytes; merged: snapshot plus the operator's later changes; removed: only nemoclaw's keys taken out (no snapshot); unchanged: nothing to do. */
  action: "restored" | "merged" | "removed" | "unchanged" | "no-file";
  /** Keys of the operator's later changes carried over (merged). */
  merged: string[];
  backup: string | null;
  snapshot: string | null;
};

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function parse(text: string, file: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON5.parse(text);
  } catch (e) {
    throw new UserError(`${what} ${file} does not parse: ${(e as Error).message}`, `fix it (\`openclaw config validate\`), then run this again; nothing was changed`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserError(`${what} ${file} is not a JSON object`, "fix it, then run this again; nothing was changed");
  }
  return value as JsonObject;
}

/** Write temp beside `file`, fsync, rename over it; the old file's mode is kept. */
async function replaceAtomically(file: string, data: string, mode: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temp, mode);
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
}

/** Moves onboarding's copies aside once they are used, so the next onboarding takes fresh ones. */
async function retire(files: readonly string[], suffix: string): Promise<void> {
  for (const f of files) await rename(f, `${f}.${suffix}`).catch(() => undefined);
}

/** The operator's config as it was before nemoclaw, with whatever they changed since (see the file comment). */
export async function restoreHostConfig(stateDir: string, file = operatorConfigFile()): Promise<RestoreOutcome> {
  const snapshot = snapshotFile(stateDir);
  const onboarded = onboardedCopyFile(stateDir);
  const currentText = await readText(file);
  const snapshotText = await readText(snapshot);
  const none = { file, merged: [], backup: null, snapshot: snapshotText === undefined ? null : snapshot };
  // A config the operator removed stays removed: deleting it was their change.
  if (currentText === undefined) return { ...none, action: "no-file" };
  const theirs = parse(currentText, file, "your OpenClaw config");

  let next: string;
  let action: RestoreOutcome["action"];
  let merged: string[] = [];
  if (snapshotText === undefined) {
    const config = withoutOwned(theirs);
    if (jsonEqual(config, theirs)) return { ...none, action: "unchanged" };
    next = `${JSON.stringify(config, null, 2)}\n`;
    action = "removed";
  } else {
    const base = parse(snapshotText, snapshot, "the snapshot");
    const onboardedText = await readText(onboarded);
    const ours = onboardedText === undefined ? assumedOurs(base, theirs) : parse(onboardedText, onboarded, "onboarding's copy");
    const result = mergeHostConfig(base, ours, theirs);
    merged = [...new Set(result.merged.map((c) => formatPath(c.path)))];
    if (merged.length === 0) {
      next = snapshotText;
      action = "restored";
    } else {
      next = `${JSON.stringify(result.config, null, 2)}\n`;
      action = "merged";
    }
  }
  const suffix = `ejected-${stamp()}`;
  if (next === currentText) {
    await retire([snapshot, onboarded], suffix);
    return { ...none, action: action === "restored" ? "restored" : "unchanged", merged };
  }
  const mode = (await stat(file)).mode & 0o777;
  const backup = `${file}.before-eject-${stamp()}`;
  await copyFile(file, backup, 1);
  await chmod(backup, 0o600);
  await replaceAtomically(file, next, mode);
  await retire([snapshot, onboarded], suffix);
  return { file, action, merged, backup, snapshot: snapshotText === undefined ? null : snapshot };
}
