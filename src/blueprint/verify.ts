import { readFile, lstat } from "node:fs/promises";
import path from "node:path";
import { SealedBlueprintSchema, MANIFEST_NAME, type SealedBlueprint } from "./manifest.js";
import { digestOf, listBlueprintFiles, sha256 } from "./digest.js";

export type BlueprintProblem =
  | { kind: "changed"; path: string; expected: string; actual: string }
  | { kind: "missing"; path: string }
  | { kind: "unlisted"; path: string }
  | { kind: "not-a-file"; path: string }
  | { kind: "digest"; expected: string; actual: string }
  | { kind: "manifest"; message: string };

export type BlueprintVerification = {
  dir: string;
  ok: boolean;
  manifest: SealedBlueprint | undefined;
  problems: BlueprintProblem[];
};

/**
 * The build seals the manifest as JSON after a comment line (JSON is YAML), so it is read without
 * loading a YAML parser into every verb; anything else is read as the YAML it claims to be.
 */
async function parseManifest(text: string): Promise<unknown> {
  try {
    return JSON.parse(text.replace(/^(?:#[^\n]*\n)+/, ""));
  } catch {
    const { parse } = await import("yaml");
    return parse(text);
  }
}

/**
 * Recompute the sealed blueprint's digest from the files on disk. Nothing from `dir` is executed.
 * Reports every difference, not just the first, so a broken install can be diagnosed in one go.
 */
export async function verifyBlueprint(dir: string): Promise<BlueprintVerification> {
  const fail = (message: string): BlueprintVerification => ({
    dir,
    ok: false,
    manifest: undefined,
    problems: [{ kind: "manifest", message }],
  });
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_NAME), "utf8");
  } catch {
    return fail(`${path.join(dir, MANIFEST_NAME)} is missing: the blueprint was never built or sealed`);
  }
  let raw: unknown;
  try {
    raw = await parseManifest(text);
  } catch (e) {
    return fail(`${MANIFEST_NAME} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const parsed = SealedBlueprintSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return fail(`${MANIFEST_NAME} is not a sealed blueprint manifest (${first?.path.join(".") || "root"}: ${first?.message})`);
  }
  const manifest = parsed.data;
  const problems: BlueprintProblem[] = [];

  const recordedDigest = digestOf(manifest.files);
  if (recordedDigest !== manifest.digest) {
    problems.push({ kind: "digest", expected: manifest.digest, actual: recordedDigest });
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const file of manifest.files) {
    const full = path.join(dir, file.path);
    if (path.relative(dir, full).startsWith("..")) {
      problems.push({ kind: "not-a-file", path: file.path });
      continue;
    }
    let stat;
    try {
      stat = await lstat(full);
    } catch {
      problems.push({ kind: "missing", path: file.path });
      continue;
    }
    if (!stat.isFile()) {
      problems.push({ kind: "not-a-file", path: file.path });
      continue;
    }
    const actual = sha256(await readFile(full));
    if (actual !== file.sha256) problems.push({ kind: "changed", path: file.path, expected: file.sha256, actual });
  }
  for (const p of await listBlueprintFiles(dir)) {
    if (!listed.has(p)) problems.push({ kind: "unlisted", path: p });
  }
  return { dir, ok: problems.length === 0, manifest, problems };
}

export function describeProblem(p: BlueprintProblem): string {
  switch (p.kind) {
    case "changed":
      return `changed: ${p.path} (expected sha256 ${p.expected.slice(0, 12)}…, found ${p.actual.slice(0, 12)}…)`;
    case "missing":
      return `missing: ${p.path}`;
    case "unlisted":
      return `unlisted extra file: ${p.path}`;
    case "not-a-file":
      return `not a regular file inside the blueprint: ${p.path}`;
    case "digest":
      return `file list does not match the recorded digest (expected ${p.expected.slice(0, 12)}…, computed ${p.actual.slice(0, 12)}…)`;
    case "manifest":
      return p.message;
  }
}
