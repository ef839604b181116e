// Writes the carried parts of the operator's config (carry-over.ts) into a gateway sandbox's
// OpenClaw config, inside, as the workload, with the rewrite gateway-models.ts uses too
// (config-rewrite.ts: OpenClaw's own JSON5, atomic, 0600 kept). The gateway's watcher applies the
// change (agents, channels and skills hot-reload or restart the owning subsystem;
// docs/gateway/configuration/hot-reload.md).
//
// The merge keeps nemoclaw's own settings: the gateway section, tools, plugins, proxy, the
// router's provider entries and the defaults the sandbox decides (workspace, sandbox backend,
// primary model). Carried sections replace what an earlier carry-over wrote, so an agent or
// channel the operator removed goes away too. Nothing is written when nothing differs.
import { RuntimeError } from "../state/runtime-error.js";
import type { CarriedParts } from "./carry-over.js";
import { rewriteConfigInside, type Json } from "./config-rewrite.js";
import type { ExecIo } from "./container-io.js";

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
  // The seed's routing (gateway-inside.ts) unless the operator's config says where prompts go.
  out.approvals = { ...object(config.approvals), plugin: parts.approvalRouting ?? { enabled: true, mode: "session" } };
  return out;
}

/** Merges the carried parts into the config inside a running sandbox; resolves whether the file changed. */
export function writeCarriedConfig(
  exec: (command: readonly string[], io: ExecIo) => Promise<number>,
  target: { name: string; openclawEntry: string; configPath: string },
  parts: CarriedParts,
): Promise<boolean> {
  return rewriteConfigInside(exec, target, mergeCarriedParts, parts, (detail) =>
    new RuntimeError(
      "carry-over-config",
      `could not write the carried-over settings into ${target.configPath} inside ${target.name} ${detail}`,
      `the sandbox keeps its earlier config; see \`openclaw nemoclaw ${target.name} logs\`, then run onboard again`,
    ),
  );
}
