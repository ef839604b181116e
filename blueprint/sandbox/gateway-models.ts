// The model part of a gateway sandbox's OpenClaw config: one provider entry per shape, both at
// inference.local with a placeholder key, and which of them is primary (the sandbox's active
// route decides; the runtime computes it with inference/openclaw-config.ts, as this layer may
// not import the router). Written into the seeded config at create, and rewritten in place
// when the route changes shape: OpenClaw's watcher hot-applies `models` and `agents` (no
// restart; docs/gateway/configuration/hot-reload.md).
//
// The rewrite runs inside, as the workload (config-rewrite.ts: OpenClaw's own JSON5, atomic, 0600
// kept, nothing written when nothing differs). Nothing it carries is secret: the key is the
// router's placeholder.
import { RuntimeError } from "../state/runtime-error.js";
import { configRewriteArgv, rewriteConfigInside, type Json } from "./config-rewrite.js";
import type { ExecIo } from "./container-io.js";

export interface GatewayModels {
  /** Merged into `models.providers` (entries of the same id are replaced). */
  providers: Record<string, unknown>;
  /** Set as `agents.defaults.model.primary` ("<provider id>/<model id>"). */
  primary: string;
}

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

/** argv of the in-sandbox rewrite (config-rewrite.ts). */
export function rewriteModelsArgv(openclawEntry: string, configPath: string): string[] {
  return configRewriteArgv(mergeGatewayModels, openclawEntry, configPath);
}

/** Rewrites the models part of the config inside a running sandbox; resolves whether the file changed. */
export function rewriteGatewayModels(
  exec: (command: readonly string[], io: ExecIo) => Promise<number>,
  target: { name: string; openclawEntry: string; configPath: string },
  models: GatewayModels,
): Promise<boolean> {
  return rewriteConfigInside(exec, target, mergeGatewayModels, models, (detail) =>
    new RuntimeError(
      "gateway-config",
      `could not update the model providers in ${target.configPath} inside ${target.name} ${detail}`,
      "the route itself is saved; check the sandbox's OpenClaw config with `openclaw nemoclaw <name> logs`, then run `inference set` again",
    ),
  );
}
