import { OPENAI_HEADERS, type ProviderSpec } from "./types.js";

export const vllm: ProviderSpec = {
  kind: "vllm",
  label: "vLLM",
  shape: "openai",
  defaultBaseUrl: "http://127.0.0.1:8000/v1",
  key: "optional",
  credentialKinds: [],
  auth: "bearer",
  allowedHeaders: OPENAI_HEADERS,
  note: "a key only when the server was started with --api-key",
};
