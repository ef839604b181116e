// The one way nemoclaw changes a gateway sandbox's OpenClaw config in place (gateway-models.ts,
// carry-over-config.ts): a `node -e` program run inside, as the workload through the sandbox's
// launcher (the gateway's own Landlock lists, uid 1000). That is the one identity that may read
// /sandbox/.openclaw, so the file keeps its owner and mode 0600 without the host needing root or
// Docker archive tricks. The program parses with OpenClaw's own JSON5 package (comments and
// trailing commas read as OpenClaw reads them), merges, and writes only when the merged config
// differs (keys compared in sorted order): atomically, the way OpenClaw writes its own config
// (temp file in the same folder, 0600, fsync, rename, fsync of the folder). The gateway's watcher
// applies the change.
import { RuntimeError } from "../state/runtime-error.js";
import { execWithInput, type ExecIo } from "./container-io.js";

export type Json = Record<string, unknown>;

/**
 * A merge the program runs inside: the config as read, and the input sent on stdin (JSON).
 * Self-contained (no imports, no closure): its source text is what runs.
 */
export type ConfigMerge<Input> = (config: Json, input: Input) => Json;

function program(merge: ConfigMerge<never>): string {
  return `
const fs = require("node:fs");
const path = require("node:path");
const [entry, file] = process.argv.slice(1);
const JSON5 = require("node:module").createRequire(entry)("json5");
const merge = ${merge.toString()};
const canonical = (v) => Array.isArray(v) ? v.map(canonical) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])])) : v;
let text;
try { text = fs.readFileSync(file, "utf8"); } catch (e) { if (e.code === "ENOENT") { console.error(file + ": no config yet"); process.exit(3); } throw e; }
const before = JSON5.parse(text);
const after = merge(before, JSON.parse(fs.readFileSync(0, "utf8")));
if (JSON.stringify(canonical(before)) === JSON.stringify(canonical(after))) { console.log("unchanged"); process.exit(0); }
const tmp = path.join(path.dirname(file), "." + path.basename(file) + ".nemoclaw-" + process.pid + ".tmp");
const fd = fs.openSync(tmp, "wx", 0o600);
try { fs.writeSync(fd, JSON.stringify(after, null, 2) + "\\n"); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
fs.renameSync(tmp, file);
const dir = fs.openSync(path.dirname(file), "r");
try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
console.log("changed");
`;
}

/**
 * argv of the in-sandbox rewrite: argv = [OpenClaw's entry script, config path], the input JSON
 * on stdin. Prints "changed" or "unchanged"; exit 3 when the config does not exist yet.
 */
export function configRewriteArgv<Input>(merge: ConfigMerge<Input>, openclawEntry: string, configPath: string): string[] {
  return ["/usr/local/bin/node", "-e", program(merge as ConfigMerge<never>), openclawEntry, configPath];
}

/**
 * Runs the rewrite inside a running sandbox; resolves whether the file changed. On failure,
 * `fail` gets what happened ("(exit N): <end of stderr, else stdout>") and makes the error.
 */
export async function rewriteConfigInside<Input>(
  exec: (command: readonly string[], io: ExecIo) => Promise<number>,
  target: { openclawEntry: string; configPath: string },
  merge: ConfigMerge<Input>,
  input: Input,
  fail: (detail: string) => RuntimeError,
): Promise<boolean> {
  const { code, out, err } = await execWithInput(exec, configRewriteArgv(merge, target.openclawEntry, target.configPath), JSON.stringify(input));
  if (code !== 0 || (out !== "changed" && out !== "unchanged")) throw fail(`(exit ${code}): ${err.slice(-400) || out}`);
  return out === "changed";
}
