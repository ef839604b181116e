import { COMMON_HEADERS, type ProviderSpec } from "./types.js";

export const ollama: ProviderSpec = {
  kind: "ollama",
  label: "Ollama",
  shape: "openai",
  defaultBaseUrl: "http://127.0.0.1:11434/v1",
  key: "none",
  credentialKinds: [],
  auth: "bearer",
  allowedHeaders: COMMON_HEADERS,
  nativeOllama: true,
  note: "on the host's loopback by default; its native /api/chat is routed too",
};
