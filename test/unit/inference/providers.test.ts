import { describe, expect, it } from "vitest";
import { getProvider, listProviders, PROVIDER_KINDS } from "../../../blueprint/inference/providers/index.js";
import { openclawProviderEntries } from "../../../blueprint/inference/openclaw-config.js";
import { RouteSchema } from "../../../blueprint/inference/route.js";

describe("providers", () => {
  it("lists every kind with its shape, address, key need and default credential", () => {
    const list = listProviders();
    expect(list.map((p) => p.kind)).toEqual([...PROVIDER_KINDS]);
    expect(list.find((p) => p.kind === "ollama")).toMatchObject({ shape: "openai", defaultBaseUrl: "http://127.0.0.1:11434/v1", key: "none", defaultCredential: null });
    expect(list.find((p) => p.kind === "openai")).toMatchObject({ key: "required", defaultCredential: "openai" });
    expect(list.find((p) => p.kind === "anthropic-compatible")).toMatchObject({ shape: "anthropic", defaultBaseUrl: null });
    expect(list.find((p) => p.kind === "gemini")?.defaultBaseUrl).toBe("https://generativelanguage.googleapis.com/v1beta/openai");
  });

  it.each(PROVIDER_KINDS)("%s: no credential-carrying header is on its allow-list", (kind) => {
    const headers = getProvider(kind).allowedHeaders;
    for (const h of ["authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "host", "proxy-authorization"]) expect(headers).not.toContain(h);
  });
});

describe("openclawProviderEntries", () => {
  const route = (provider: "openai" | "anthropic" | "ollama") => RouteSchema.parse({ version: 1, provider, model: "m-1", updatedAt: "now", options: { contextWindow: 32000 } });

  it("carries one entry per shape, both at inference.local; the route's shape is primary", () => {
    const openai = openclawProviderEntries(route("openai"));
    expect(openai.providers).toEqual({
      "nemoclaw-openai": { baseUrl: "http://inference.local/v1", apiKey: "nemoclaw-inference-local", api: "openai-completions", models: [{ id: "routed", name: "m-1 via nemoclaw (openai)", contextWindow: 32000, maxTokens: 8192 }] },
      "nemoclaw-anthropic": { baseUrl: "http://inference.local", apiKey: "nemoclaw-inference-local", api: "anthropic-messages", models: [{ id: "routed", name: "m-1 via nemoclaw (openai)", contextWindow: 32000, maxTokens: 8192 }] },
    });
    expect(openai.primary).toBe("nemoclaw-openai/routed");
    expect(openclawProviderEntries(route("anthropic")).primary).toBe("nemoclaw-anthropic/routed");
    expect(openclawProviderEntries(route("ollama")).primary).toBe("nemoclaw-openai/routed");
    expect(openclawProviderEntries(route("openai"), { apiKey: "sk-proj-ph" }).providers["nemoclaw-openai"]?.apiKey).toBe("sk-proj-ph");
  });
});
