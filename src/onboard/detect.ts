// What the host offers for inference, without asking anyone on the network: provider keys in
// this shell's environment, and local model servers answering on the host's loopback at their
// default ports (the router reaches those directly). Probes are short and run in parallel.

export type Detected =
  | { kind: "key"; provider: string; envVar: string; label: string }
  | { kind: "server"; provider: string; baseUrl: string; models: string[]; label: string };

/** Environment variables that name a provider's key, in the order they are offered. */
export const KEY_VARIABLES: ReadonlyArray<{ envVar: string; provider: string; label: string; defaultModel: string }> = [
  { envVar: "OPENAI_API_KEY", provider: "openai", label: "OpenAI", defaultModel: "gpt-4.1-mini" },
  { envVar: "ANTHROPIC_API_KEY", provider: "anthropic", label: "Anthropic", defaultModel: "claude-sonnet-4-5" },
  { envVar: "NVIDIA_API_KEY", provider: "nvidia", label: "NVIDIA", defaultModel: "nvidia/llama-3.3-nemotron-super-49b-v1" },
  { envVar: "GEMINI_API_KEY", provider: "gemini", label: "Google Gemini", defaultModel: "gemini-2.5-flash" },
];

/** Local servers at their default loopback addresses; `models` is where each lists its models. */
export const LOCAL_SERVERS: ReadonlyArray<{ provider: string; label: string; baseUrl: string; models: string }> = [
  { provider: "ollama", label: "Ollama", baseUrl: "http://127.0.0.1:11434/v1", models: "http://127.0.0.1:11434/api/tags" },
  { provider: "vllm", label: "vLLM", baseUrl: "http://127.0.0.1:8000/v1", models: "http://127.0.0.1:8000/v1/models" },
  { provider: "llamacpp", label: "llama.cpp", baseUrl: "http://127.0.0.1:8080/v1", models: "http://127.0.0.1:8080/v1/models" },
  { provider: "lmstudio", label: "LM Studio", baseUrl: "http://127.0.0.1:1234/v1", models: "http://127.0.0.1:1234/v1/models" },
];

export function defaultModelFor(provider: string): string | undefined {
  return KEY_VARIABLES.find((k) => k.provider === provider)?.defaultModel;
}

/** The key variable conventionally holding `provider`'s key. */
export function keyVariableFor(provider: string): string | undefined {
  return KEY_VARIABLES.find((k) => k.provider === provider)?.envVar;
}

/** Model ids from an OpenAI-style `{data:[{id}]}` or Ollama's `{models:[{name}]}`. */
export function modelIds(body: unknown): string[] {
  const b = body as { data?: Array<{ id?: unknown }>; models?: Array<{ name?: unknown; model?: unknown }> };
  if (Array.isArray(b?.data)) return b.data.map((m) => String(m.id)).filter((id) => id !== "undefined");
  if (Array.isArray(b?.models)) return b.models.map((m) => String(m.name ?? m.model)).filter((id) => id !== "undefined");
  return [];
}

/** The models a server at `url` lists, or undefined when nothing answers 200 with JSON in time. */
export async function listModels(url: string, timeoutMs = 1500): Promise<string[] | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return undefined;
    return modelIds(await r.json());
  } catch {
    return undefined;
  }
}

export async function detectInference(env: NodeJS.ProcessEnv = process.env): Promise<Detected[]> {
  const keys: Detected[] = KEY_VARIABLES.filter((k) => (env[k.envVar] ?? "") !== "").map((k) => ({ kind: "key", provider: k.provider, envVar: k.envVar, label: `${k.label} (key in $${k.envVar})` }));
  const servers = await Promise.all(
    LOCAL_SERVERS.map(async (s): Promise<Detected | undefined> => {
      const models = await listModels(s.models);
      return models === undefined ? undefined : { kind: "server", provider: s.provider, baseUrl: s.baseUrl, models, label: `${s.label} on ${new URL(s.baseUrl).host}${models.length ? ` (${models.length} model${models.length === 1 ? "" : "s"})` : ""}` };
    }),
  );
  return [...keys, ...servers.filter((s): s is Detected => s !== undefined)];
}
