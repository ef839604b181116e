import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { registerNemoclawCli, CLI_DESCRIPTION } from "./cli/register.js";
import { pluginConfigJsonSchema } from "./config/json-schema.js";
import { PluginConfigSchema } from "./config/schema.js";
import { resolvePluginConfig } from "./config/resolve.js";
import { interceptGatewayLaunch } from "./launch/intercept.js";

export default definePluginEntry({
  id: "nemoclaw",
  name: "NemoClaw",
  description: "Runs OpenClaw inside a locked-down sandbox with default-deny egress and host-held inference keys.",
  configSchema: {
    jsonSchema: pluginConfigJsonSchema,
    safeParse: (value: unknown) => {
      const r = PluginConfigSchema.safeParse(value);
      return r.success
        ? { success: true, data: r.data }
        : { success: false, error: { issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) } };
    },
  },
  // register() runs once per registration mode; it only declares things. Side effects live in
  // services and hooks, which OpenClaw starts when (and only when) they are needed.
  register(api) {
    // The one exception: in the host's gateway process, mode `full` is the first plugin code that
    // runs, and it must replace that process before the assistant starts (src/launch/intercept.ts).
    if (api.registrationMode === "full") {
      interceptGatewayLaunch(() => resolvePluginConfig(api.pluginConfig), (api.config as { gateway?: { port?: unknown } }).gateway?.port);
    }
    api.registerCli(({ program }) => registerNemoclawCli(program, api.pluginConfig), {
      descriptors: [{ name: "nemoclaw", description: CLI_DESCRIPTION, hasSubcommands: true }],
    });
  },
});
