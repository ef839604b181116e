// The one rule for sandbox names, imported by everything that takes a name: the plugin's config,
// the runtime protocol, the registry, the container spec, the daemon and the gateway's control
// routes. A name becomes a directory under the state dir and part of a container name, so it is an
// RFC 1123 label and nothing else (no dots, no slashes: no path traversal into the state dir).
import { z } from "zod";

export const SANDBOX_NAME_RULE =
  "a sandbox name is an RFC 1123 label: 1-63 characters, lowercase letters, digits and '-', starting and ending with a letter or digit";

export const SandboxNameSchema = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, SANDBOX_NAME_RULE);
