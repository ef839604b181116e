// What the daemon, the egress gateway and the CLI import.
export { createInferenceRouter, InferenceRouter, type InferenceRouterOptions } from "./router.js";
export { serveInferenceRouter, type ServedRouter } from "./serve.js";
export { RouteStore, routeFile, RouteSchema, SetRouteInputSchema, type Route, type SetRouteInput } from "./route.js";
export { getProvider, listProviders, PROVIDER_KINDS, ProviderKindSchema, type ProviderDescription, type ProviderKind } from "./providers/index.js";
export { openclawProviderEntries, PROVIDER_ENTRY_IDS, STABLE_MODEL_ID, type OpenClawInferenceConfig } from "./openclaw-config.js";
export { inferenceLogFile, InferenceEventSchema, readInferenceEvents, type InferenceEvent } from "./audit.js";
export { ENDPOINTS, ROUTER_HOST } from "./endpoints.js";
