// The config switch that launch interception reads: `plugins.entries.nemoclaw.config.launch`,
// written through OpenClaw's own config mutation (config/write.ts). The onboard wizard calls
// `enableLaunch`.
import { SandboxNameSchema, type LaunchConfig } from "../config/schema.js";
import { updatePluginConfig } from "../config/write.js";
import { UserError } from "../errors.js";

function writeLaunch(launch: LaunchConfig | undefined): Promise<void> {
  return updatePluginConfig((config) => {
    if (launch) config.launch = launch;
    else delete config.launch;
  });
}

/** From now on `openclaw gateway [run]` and the installed service run the gateway inside sandbox `name`. */
export async function enableLaunch(name: string): Promise<void> {
  if (!SandboxNameSchema.safeParse(name).success) throw new UserError(`"${name}" is not a sandbox name`, "use the name given to `sandbox create <name> --gateway`");
  await writeLaunch({ sandbox: name, enabled: true });
}

/** The loud opt-out kept in config: the gateway runs on the host, with a warning on every launch. */
export async function disableLaunch(current: LaunchConfig | undefined): Promise<void> {
  if (!current) return;
  await writeLaunch({ ...current, enabled: false });
}
