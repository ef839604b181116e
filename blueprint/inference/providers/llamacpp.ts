import { OPENAI_HEADERS, type ProviderSpec } from "./types.js";

export const llamacpp: ProviderSpec = {
  kind: "llamacpp",
  label: "llama.cpp server",
  shape: "openai",
  defaultBaseUrl: "http://127.0.0.1:8080/v1",
  key: "optional",
  credentialKinds: [],
  auth: "bearer",
  allowedHeaders: OPENAI_HEADERS,
  note: "a key only when llama-server was started with --api-key",
};
