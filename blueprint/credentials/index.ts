// What the CLI, the daemon, the inference router and the egress proxy import.
export { CredentialStore, credentialsFile } from "./store.js";
export { KINDS, listCredentialKinds } from "./kinds.js";
export { boundTo, buildPlaceholderIndex, findPlaceholders, substitute } from "./substitute.js";
export type { Destination, FoundPlaceholder, PlaceholderIndex, RequestParts, SubstituteResult } from "./substitute.js";
export * from "./schema.js";
