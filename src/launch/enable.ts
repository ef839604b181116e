// The config switch that launch interception reads: `plugins.entries.nemoclaw.config.launch`.
// Written through OpenClaw's own config mutation (its locking, JSON5 preservation and atomic
// write), never by editing openclaw.json ourselves. The onboard wizard calls `enableLaunch`.
// Imported on use: that SDK module pulls in most of OpenClaw's config layer (seconds to load on
// its own), and every `openclaw` command loads this plugin.
import { SandboxNameSchema, type LaunchConfig } from "../config/schema.js";
import { UserError } from "../errors.js";

type Entries = Record<string, { enabled?: boolean; config?: Record<string, unknown> } | undefined>;

async function writeLaunch(launch: LaunchConfig | undefined): Promise<void> {
  const { mutateConfigFile } = await import("openclaw/plugin-sdk/config-mutation");
  await mutateConfigFile({
    mutate(draft) {
      const plugins = ((draft as { plugins?: { entries?: Entries } }).plugins ??= {});
      const entries = (plugins.entries ??= {});
      const entry = (entries.nemoclaw ??= {});
      const config = (entry.config ??= {});
      if (launch) config.launch = launch;
      else delete config.launch;
    },
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
