import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { BlueprintFile } from "./manifest.js";
import { MANIFEST_NAME } from "./manifest.js";

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The overall digest: sha256 over `<sha256>  <path>\n` lines sorted by path (the `sha256sum` format). */
export function digestOf(files: readonly BlueprintFile[]): string {
  const lines = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.sha256}  ${f.path}\n`);
  return sha256(lines.join(""));
}

/** Every regular file under `dir` except the manifest itself, as POSIX paths relative to `dir`. */
export async function listBlueprintFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .filter((p) => p !== MANIFEST_NAME)
    .sort();
}

export async function hashFiles(dir: string, paths: readonly string[]): Promise<BlueprintFile[]> {
  return Promise.all(paths.map(async (p) => ({ path: p, sha256: sha256(await readFile(path.join(dir, p))) })));
}
