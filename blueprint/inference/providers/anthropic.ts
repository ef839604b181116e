import { ANTHROPIC_HEADERS, type ProviderSpec } from "./types.js";

export const anthropic: ProviderSpec = {
  kind: "anthropic",
  label: "Anthropic",
  shape: "anthropic",
  defaultBaseUrl: "https://api.anthropic.com",
  key: "required",
  credentialKinds: ["anthropic"],
  auth: "x-api-key",
  allowedHeaders: ANTHROPIC_HEADERS,
};
