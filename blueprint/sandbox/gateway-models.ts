// The model part of a gateway sandbox's OpenClaw config: one provider entry per shape, both at
// inference.local with a placeholder key, and which of them is primary (the sandbox's active
// route decides; the runtime computes it with inference/openclaw-config.ts, as this layer may
// not import the router). Written into the seeded config at create, and rewritten in place
// when the route changes shape: OpenClaw's watcher hot-applies `models` and `agents` (no
// restart; docs/gateway/configuration/hot-reload.md).
//
// The rewrite runs inside, as the workload through the sandbox's launcher (the gateway's own
// Landlock lists, uid 1000): that is the one identity that may read /sandbox/.openclaw, so the
// file keeps its owner and mode 0600 without the host needing root or Docker archive tricks.
// It is atomic (temp file in the same folder, fsync, rename), the way OpenClaw writes its own
// config, and parses with OpenClaw's own JSON5 package so comments and trailing commas are read
// as OpenClaw reads them. Nothing it carries is secret: the key is the router's placeholder.
import { PassThrough } from "node:stream";
import { RuntimeError } from "../state/runtime-error.js";
import type { ExecIo } from "./container-io.js";

export interface GatewayModels {
  /** Merged into `models.providers` (entries of the same id are replaced). */
  providers: Record<string, unknown>;
  /** Set as `agents.defaults.model.primary` ("<provider id>/<model id>"). */
  primary: string;
}

type Json = Record<string, unknown>;

/**
 * The config with the models merged in; everything else kept. Self-contained (no imports, no
 * closure): its source text is also what the in-sandbox rewrite runs.
 */
export function mergeGatewayModels(config: Json, models: GatewayModels): Json {
  const object = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
  const section = object(config.models);
  const agents = object(config.agents);
  const defaults = object(agents.defaults);
  return {
    ...config,
    models: { ...section, mode: section.mode ?? "merge", providers: { ...object(section.providers), ...models.providers } },
    agents: { ...agents, defaults: { ...defaults, model: { ...object(defaults.model), primary: models.primary } } },
  };
}

/**
 * `node -e` program: argv = [OpenClaw's entry script, config path], models JSON on stdin.
 * Prints "changed" or "unchanged"; exit 3 when the config does not exist yet.
 */
const REWRITE = `
const fs = require("node:fs");
const path = require("node:path");
const [entry, file] = process.argv.slice(1);
const JSON5 = require("node:module").createRequire(entry)("json5");
const merge = ${mergeGatewayModels.toString()};
let text;
try { text = fs.readFileSync(file, "utf8"); } catch (e) { if (e.code === "ENOENT") { console.error(file + ": no config yet"); process.exit(3); } throw e; }
const before = JSON5.parse(text);
const after = merge(before, JSON.parse(fs.readFileSync(0, "utf8")));
if (JSON.stringify(before) === JSON.stringify(after)) { console.log("unchanged"); process.exit(0); }
const tmp = path.join(path.dirname(file), "." + path.basename(file) + ".nemoclaw-" + process.pid + ".tmp");
const fd = fs.openSync(tmp, "wx", 0o600);
try { fs.writeSync(fd, JSON.stringify(after, null, 2) + "\\n"); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
fs.renameSync(tmp, file);
const dir = fs.openSync(path.dirname(file), "r");
try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
console.log("changed");
`;

/** argv of the in-sandbox rewrite. */
export function rewriteModelsArgv(openclawEntry: string, configPath: string): string[] {
  return ["/usr/local/bin/node", "-e", REWRITE, openclawEntry, configPath];
}

/** Rewrites the models part of the config inside a running sandbox; resolves whether the file changed. */
export async function rewriteGatewayModels(
  exec: (command: readonly string[], io: ExecIo) => Promise<number>,
  target: { name: string; openclawEntry: string; configPath: string },
  models: GatewayModels,
): Promise<boolean> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
  const code = await exec(rewriteModelsArgv(target.openclawEntry, target.configPath), { stdin: PassThrough.from([Buffer.from(JSON.stringify(models))]), stdout, stderr });
  const said = Buffer.concat(out).toString("utf8").trim();
  if (code !== 0 || (said !== "changed" && said !== "unchanged")) {
    throw new RuntimeError(
      "gateway-config",
      `could not update the model providers in ${target.configPath} inside ${target.name} (exit ${code}): ${Buffer.concat(err).toString("utf8").trim().slice(-400) || said}`,
      "the route itself is saved; check the sandbox's OpenClaw config with `openclaw nemoclaw <name> logs`, then run `inference set` again",
    );
  }
  return said === "changed";
}
