// What a provider module declares. The router needs nothing else to reach a provider: where it
// is, which API shape it speaks, how it takes its key, and which client headers it may see.
import type { CredentialKind } from "../../credentials/schema.js";

export type Shape = "openai" | "anthropic";

export interface ProviderSpec {
  kind: string;
  label: string;
  shape: Shape;
  /** Absent: the route must give `baseUrl`. OpenAI-shaped URLs end with the version (`…/v1`); Anthropic-shaped ones do not. */
  defaultBaseUrl?: string;
  /** Whether a stored credential is needed to reach it. */
  key: "required" | "optional" | "none";
  /** Credential kinds it accepts (empty: any); the first is also the default credential's name. */
  credentialKinds: readonly CredentialKind[];
  /** How the real key is sent: `Authorization: Bearer …` or Anthropic's `x-api-key`. */
  auth: "bearer" | "x-api-key";
  /** Request headers from the sandbox that pass (lowercase); everything else is dropped. */
  allowedHeaders: readonly string[];
  /** Ollama: the native `/api/chat` (NDJSON) is also reachable, beside its OpenAI-compatible `/v1`. */
  nativeOllama?: boolean;
  /** Shown by `inference providers`. */
  note?: string;
}

export const COMMON_HEADERS = ["content-type", "accept", "user-agent"] as const;
export const OPENAI_HEADERS = [...COMMON_HEADERS, "openai-beta", "idempotency-key"] as const;
export const ANTHROPIC_HEADERS = [...COMMON_HEADERS, "anthropic-version", "anthropic-beta"] as const;
