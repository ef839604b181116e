import { ANTHROPIC_HEADERS, type ProviderSpec } from "./types.js";

export const anthropicCompatible: ProviderSpec = {
  kind: "anthropic-compatible",
  label: "Any Anthropic-compatible API",
  shape: "anthropic",
  key: "optional",
  credentialKinds: [],
  auth: "x-api-key",
  allowedHeaders: ANTHROPIC_HEADERS,
  note: "give --base-url without /v1, as Anthropic's SDKs take it",
};
