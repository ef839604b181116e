// Build step after bundling (build.ts): copy the blueprint's non-code assets (the Dockerfile, the
// launcher's C source) next to its bundles in dist/blueprint, then write
// dist/blueprint/blueprint.yaml with every file's sha256 and the overall digest (in JSON, which is
// also YAML: see the write below).
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { BlueprintSourceSchema, MANIFEST_NAME } from "../src/blueprint/manifest.js";
import { digestOf, hashFiles, listBlueprintFiles } from "../src/blueprint/digest.js";

/** Sources (bundled instead) and documentation stay out: the digest covers what runs. */
const isAsset = (name: string) => !name.endsWith(".ts") && !name.endsWith(".md") && name !== MANIFEST_NAME;

export async function sealBlueprint(root: string): Promise<void> {
  const sourceDir = path.join(root, "blueprint");
  const outDir = path.join(root, "dist", "blueprint");
  const entries = await readdir(sourceDir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile() || !isAsset(e.name)) continue;
    const rel = path.relative(sourceDir, path.join(e.parentPath, e.name));
    await mkdir(path.dirname(path.join(outDir, rel)), { recursive: true });
    await copyFile(path.join(sourceDir, rel), path.join(outDir, rel));
  }

  const source = BlueprintSourceSchema.parse(parse(await readFile(path.join(sourceDir, MANIFEST_NAME), "utf8")));
  const files = await hashFiles(outDir, await listBlueprintFiles(outDir));
  const sealed = { ...source, files, digest: digestOf(files) };
  await writeFile(
    path.join(outDir, MANIFEST_NAME),
    // JSON is YAML too: every YAML reader still reads it, and the plugin, which checks it on every
    // verb, reads it with JSON.parse instead of loading a YAML parser (~40 ms) into OpenClaw's process.
    `# Sealed by \`npm run build\` from blueprint/${MANIFEST_NAME}. Do not edit: the plugin refuses a mismatch.\n${JSON.stringify(sealed, null, 2)}\n`,
  );
  console.log(`sealed blueprint ${source.version}: ${files.map((f) => f.path).join(", ")}; digest ${sealed.digest}`);
}
