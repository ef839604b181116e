import { OPENAI_HEADERS, type ProviderSpec } from "./types.js";

// Gemini's OpenAI-compatible endpoint takes the API key as a Bearer token.
export const gemini: ProviderSpec = {
  kind: "gemini",
  label: "Google Gemini (OpenAI-compatible endpoint)",
  shape: "openai",
  defaultBaseUrl: "https://generativelanguage.googleapis.com/v1beta/openai",
  key: "required",
  credentialKinds: ["gemini"],
  auth: "bearer",
  allowedHeaders: OPENAI_HEADERS,
};
