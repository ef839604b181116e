import { OPENAI_HEADERS, type ProviderSpec } from "./types.js";

export const openaiCompatible: ProviderSpec = {
  kind: "openai-compatible",
  label: "Any OpenAI-compatible API (OpenRouter, Together, Groq, a local server, …)",
  shape: "openai",
  key: "optional",
  credentialKinds: [],
  auth: "bearer",
  allowedHeaders: OPENAI_HEADERS,
  note: "give --base-url ending with the API version, e.g. https://openrouter.ai/api/v1",
};
