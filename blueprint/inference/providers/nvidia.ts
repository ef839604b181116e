import { OPENAI_HEADERS, type ProviderSpec } from "./types.js";

export const nvidia: ProviderSpec = {
  kind: "nvidia",
  label: "NVIDIA (build.nvidia.com)",
  shape: "openai",
  defaultBaseUrl: "https://integrate.api.nvidia.com/v1",
  key: "required",
  credentialKinds: ["nvidia"],
  auth: "bearer",
  allowedHeaders: OPENAI_HEADERS,
};
