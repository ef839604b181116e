// Writes the carried parts of the operator's config (carry-over.ts) into a gateway sandbox's
// OpenClaw config, inside, as the workload through the sandbox's launcher — the same way and for
// the same reasons as gateway-models.ts (the one identity that may read /sandbox/.openclaw; mode
// 0600 kept; atomic temp-file + rename; OpenClaw's own JSON5). The gateway's watcher applies the
// change (agents, channels and skills hot-reload or restart the owning subsystem;
// docs/gateway/configuration/hot-reload.md).
//
// The merge keeps nemoclaw's own settings: the gateway section, tools, plugins, proxy, the
// router's provider entries and the defaults the sandbox decides (workspace, sandbox backend,
// primary model). Carried sections replace what an earlier carry-over wrote, so an agent or
// channel the operator removed goes away too. Nothing is written when nothing differs.
import { PassThrough } from "node:stream";
import { RuntimeError } from "../state/runtime-error.js";
import type { CarriedParts } from "./carry-over.js";
import type { ExecIo } from "./container-io.js";

type Json = Record<string, unknown>;

/**
 * The sandbox's config with the carried parts merged in. Self-contained (no imports, no
 * closure): its source text is also what runs inside.
 */
export function mergeCarriedParts(config: Json, parts: CarriedParts): Json {
  const object = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
  const ours = ["workspace", "sandbox", "model"];
  const agents = object(config.agents);
  const defaults = object(agents.defaults);
  const carriedDefaults = object(parts.agents.defaults);
  const keptDefaults = Object.fromEntries(ours.filter((k) => k in defaults).map((k) => [k, defaults[k]]));
  const models = object(config.models);
  const routerEntries = Object.fromEntries(Object.entries(object(models.providers)).filter(([id]) => id.startsWith("nemoclaw-")));
  const out: Json = { ...config };
  for (const key of ["channels", "skills", "bindings"] as const) {
    if (parts[key] === undefined) delete out[key];
    else out[key] = parts[key];
  }
  const nextAgents: Json = { ...object(parts.agents), defaults: { ...carriedDefaults, ...keptDefaults } };
  if (parts.agents.entries === undefined) delete nextAgents.entries;
  out.agents = nextAgents;
  out.models = { ...models, providers: { ...parts.providers, ...routerEntries } };
  return out;
}

/** `node -e` program: argv = [OpenClaw's entry, config path], parts JSON on stdin. Prints changed|unchanged; exit 3 without a config. */
const REWRITE = `
const fs = require("node:fs");
const path = require("node:path");
const [entry, file] = process.argv.slice(1);
const JSON5 = require("node:module").createRequire(entry)("json5");
const merge = ${mergeCarriedParts.toString()};
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

export function writeCarriedArgv(openclawEntry: string, configPath: string): string[] {
  return ["/usr/local/bin/node", "-e", REWRITE, openclawEntry, configPath];
}

/** Merges the carried parts into the config inside a running sandbox; resolves whether the file changed. */
export async function writeCarriedConfig(
  exec: (command: readonly string[], io: ExecIo) => Promise<number>,
  target: { name: string; openclawEntry: string; configPath: string },
  parts: CarriedParts,
): Promise<boolean> {
  const { code, out, err } = await execWithInput(exec, writeCarriedArgv(target.openclawEntry, target.configPath), JSON.stringify(parts));
  if (code !== 0 || (out !== "changed" && out !== "unchanged")) {
    throw new RuntimeError(
      "carry-over-config",
      `could not write the carried-over settings into ${target.configPath} inside ${target.name} (exit ${code}): ${err.slice(-400) || out}`,
      `the sandbox keeps its earlier config; see \`openclaw nemoclaw ${target.name} logs\`, then run onboard again`,
    );
  }
  return out === "changed";
}

/** Runs a command inside with `input` on its stdin; its stdout (trimmed) and stderr. */
export async function execWithInput(exec: (command: readonly string[], io: ExecIo) => Promise<number>, command: readonly string[], input: string): Promise<{ code: number; out: string; err: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
  const code = await exec(command, { stdin: PassThrough.from([Buffer.from(input)]), stdout, stderr });
  return { code, out: Buffer.concat(out).toString("utf8").trim(), err: Buffer.concat(err).toString("utf8").trim() };
}
