import { z } from "zod";
import { SIZE_PATTERN } from "./size.js";
// The one sandbox-name rule. A pure zod schema: the only runtime module the plugin loads before it
// verifies the blueprint (the config schema is needed at registration).
import { SandboxNameSchema } from "../../blueprint/state/sandbox-name.js";

/**
 * The plugin's own settings (`plugins.entries.nemoclaw.config` in openclaw.json).
 * The manifest's `configSchema` is generated from this schema; a unit test keeps them in step.
 * Every field is optional: defaults are resolved in one place, `resolvePluginConfig`.
 */
export { SandboxNameSchema };

/**
 * A Docker Engine URL. npipe:// matches the pattern (DOCKER_HOST's own grammar) but is refused with
 * why: it is a Windows named pipe, and sandboxes need a Linux engine. The runtime parses the rest.
 */
export function dockerHostSchema(message: string) {
  return z
    .string()
    .refine((v) => !/^npipe:/i.test(v), {
      message: "npipe:// is a Windows named pipe; nemoclaw needs a Linux Docker engine: use unix://, tcp:// or ssh:// (on Windows, run it in WSL 2)",
      abort: true,
    })
    .regex(/^(unix|tcp|ssh|npipe):\/\/.+/, message);
}

/** Launch interception (src/launch/): which sandbox `openclaw gateway` runs in. */
export const LaunchConfigSchema = z
  .object({
    sandbox: SandboxNameSchema.describe("A sandbox created with `sandbox create <name> --gateway`."),
    enabled: z.boolean().describe("false: `openclaw gateway` runs on the host again (warned about on every launch)."),
  })
  .strict();
export type LaunchConfig = z.infer<typeof LaunchConfigSchema>;

export const PluginConfigSchema = z
  .object({
    defaultSandbox: SandboxNameSchema.optional().describe(
      "Sandbox that verbs act on when no name is given (launch.sandbox names the one `openclaw gateway` runs in).",
    ),
    stateDir: z
      .string()
      .min(1)
      .optional()
      .describe("Where nemoclaw keeps host-side state (default: <OpenClaw state dir>/nemoclaw, mode 0700)."),
    dockerHost: dockerHostSchema("dockerHost is a URL such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host")
      .optional()
      .describe("Docker Engine to use (default: DOCKER_HOST, else the local socket)."),
    baseImage: z
      .string()
      .min(1)
      .optional()
      .describe("Base image for the sandbox image (default: node:24-bookworm-slim)."),
    sandboxDisk: z
      .string()
      .regex(SIZE_PATTERN, "sandboxDisk is a size such as 10g or 512m, or 0 for no limit")
      .optional()
      .describe("Size limit of /sandbox in each new sandbox, e.g. 10g (default 10g); 0 for none. `sandbox create --disk` overrides it."),
    launch: LaunchConfigSchema.optional().describe(
      "Where the operator's gateway runs: with enabled, `openclaw gateway [run]` and the installed service end with the gateway inside this sandbox.",
    ),
  })
  .strict();

export type PluginConfig = z.infer<typeof PluginConfigSchema>;

export const DEFAULTS = {
  defaultSandbox: "openclaw",
  sandboxDisk: "10g",
} as const;
