import { OPENAI_HEADERS, type ProviderSpec } from "./types.js";

export const openai: ProviderSpec = {
  kind: "openai",
  label: "OpenAI",
  shape: "openai",
  defaultBaseUrl: "https://api.openai.com/v1",
  key: "required",
  credentialKinds: ["openai"],
  auth: "bearer",
  allowedHeaders: [...OPENAI_HEADERS, "openai-organization", "openai-project"],
};
