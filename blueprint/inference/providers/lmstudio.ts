import { OPENAI_HEADERS, type ProviderSpec } from "./types.js";

export const lmstudio: ProviderSpec = {
  kind: "lmstudio",
  label: "LM Studio",
  shape: "openai",
  defaultBaseUrl: "http://127.0.0.1:1234/v1",
  key: "optional",
  credentialKinds: [],
  auth: "bearer",
  allowedHeaders: OPENAI_HEADERS,
};
