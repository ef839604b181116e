// The providers the router can reach, by kind.
import { z } from "zod";
import { anthropic } from "./anthropic.js";
import { anthropicCompatible } from "./anthropic-compatible.js";
import { gemini } from "./gemini.js";
import { llamacpp } from "./llamacpp.js";
import { lmstudio } from "./lmstudio.js";
import { nvidia } from "./nvidia.js";
import { ollama } from "./ollama.js";
import { openai } from "./openai.js";
import { openaiCompatible } from "./openai-compatible.js";
import type { ProviderSpec, Shape } from "./types.js";
import { vllm } from "./vllm.js";

export const PROVIDER_KINDS = [
  "nvidia",
  "openai",
  "anthropic",
  "gemini",
  "ollama",
  "vllm",
  "llamacpp",
  "lmstudio",
  "openai-compatible",
  "anthropic-compatible",
] as const;
export const ProviderKindSchema = z.enum(PROVIDER_KINDS, {
  error: () => `the provider is one of ${PROVIDER_KINDS.join(", ")}`,
});
export type ProviderKind = z.infer<typeof ProviderKindSchema>;

const PROVIDERS: Record<ProviderKind, ProviderSpec> = {
  nvidia,
  openai,
  anthropic,
  gemini,
  ollama,
  vllm,
  llamacpp,
  lmstudio,
  "openai-compatible": openaiCompatible,
  "anthropic-compatible": anthropicCompatible,
};

export function getProvider(kind: ProviderKind): ProviderSpec {
  return PROVIDERS[kind];
}

export interface ProviderDescription {
  kind: ProviderKind;
  label: string;
  shape: Shape;
  /** null: `--base-url` is required. */
  defaultBaseUrl: string | null;
  key: ProviderSpec["key"];
  /** The credential name used when the route names none (e.g. "openai"), or null. */
  defaultCredential: string | null;
  note: string | null;
}

/** What `openclaw nemoclaw inference providers` prints. */
export function listProviders(): ProviderDescription[] {
  return PROVIDER_KINDS.map((kind) => {
    const p = PROVIDERS[kind];
    return {
      kind,
      label: p.label,
      shape: p.shape,
      defaultBaseUrl: p.defaultBaseUrl ?? null,
      key: p.key,
      defaultCredential: p.credentialKinds[0] ?? null,
      note: p.note ?? null,
    };
  });
}

export type { ProviderSpec, Shape } from "./types.js";
