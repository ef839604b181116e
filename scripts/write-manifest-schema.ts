// `npm run manifest:schema`: copy the plugin config's JSON Schema (generated from zod) into
// openclaw.plugin.json, which OpenClaw reads without running our code.
import { readFile, writeFile, rename } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pluginConfigJsonSchema } from "../src/config/json-schema.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const file = path.join(root, "openclaw.plugin.json");
const manifest = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
manifest.configSchema = pluginConfigJsonSchema;
await writeFile(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
await rename(`${file}.tmp`, file);
console.log(`updated ${file}`);
