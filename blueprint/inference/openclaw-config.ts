// What a sandbox's OpenClaw config carries to reach the router. Shape switching is done by
// config, not by translation: there is one provider entry per shape, both pointing at
// inference.local, and the active route's shape decides which is primary. OpenClaw reloads its
// config live, so `inference set` to another shape = write the route + set the primary (the
// runtime rewrites a gateway sandbox's config: sandbox/gateway-models.ts, runtime/gateway-models.ts). Translating OpenAI ⇄ Anthropic would have to map tool calls, thinking
// blocks, cache control and their stream events both ways — large and lossy — for a switch that
// the config already handles exactly.
import { getProvider, type Shape } from "./providers/index.js";
import type { Route } from "./route.js";

/** The model id the sandbox asks for; the router rewrites it to the route's model. */
export const STABLE_MODEL_ID = "routed";

export const PROVIDER_ENTRY_IDS: Record<Shape, string> = { openai: "nemoclaw-openai", anthropic: "nemoclaw-anthropic" };

/** The sandbox never holds a real key: whatever it sends is stripped and replaced by the router. */
export const ROUTER_API_KEY = "nemoclaw-inference-local";

export interface OpenClawProviderEntry {
  baseUrl: string;
  apiKey: string;
  api: "openai-completions" | "anthropic-messages";
  models: Array<{ id: string; name: string; contextWindow: number; maxTokens: number }>;
}

export interface OpenClawInferenceConfig {
  /** Merge into `models.providers`. */
  providers: Record<string, OpenClawProviderEntry>;
  /** Set as `agents.defaults.model.primary`. */
  primary: string;
}

export function openclawProviderEntries(route: Route, options: { apiKey?: string; routerUrl?: string } = {}): OpenClawInferenceConfig {
  const root = (options.routerUrl ?? "http://inference.local").replace(/\/+$/, "");
  const apiKey = options.apiKey ?? ROUTER_API_KEY;
  const model = {
    id: STABLE_MODEL_ID,
    name: `${route.model} via nemoclaw (${route.provider})`,
    contextWindow: route.options.contextWindow ?? 128_000,
    maxTokens: route.options.maxTokens ?? 8_192,
  };
  return {
    providers: {
      [PROVIDER_ENTRY_IDS.openai]: { baseUrl: `${root}/v1`, apiKey, api: "openai-completions", models: [model] },
      [PROVIDER_ENTRY_IDS.anthropic]: { baseUrl: root, apiKey, api: "anthropic-messages", models: [model] },
    },
    primary: `${PROVIDER_ENTRY_IDS[getProvider(route.provider).shape]}/${STABLE_MODEL_ID}`,
  };
}

/** `GET /v1/models`, answered from the route (never from the upstream, which might echo anything). */
export function modelsList(route: Route, shape: Shape): unknown {
  const ids = [...new Set([STABLE_MODEL_ID, route.model, ...(route.options.allowedModels ?? []), ...(route.options.embeddingModel === undefined ? [] : [route.options.embeddingModel])])];
  if (shape === "anthropic") {
    const data = ids.map((id) => ({ type: "model", id, display_name: id === STABLE_MODEL_ID ? `${route.model} (routed)` : id, created_at: "1970-01-01T00:00:00Z" }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }
  return { object: "list", data: ids.map((id) => ({ id, object: "model", created: 0, owned_by: `nemoclaw:${route.provider}` })) };
}
