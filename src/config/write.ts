// Changes to nemoclaw's own plugin config (`plugins.entries.nemoclaw.config`) in the operator's
// openclaw.json, through OpenClaw's own config mutation (its locking, JSON5 preservation and
// atomic write), never by editing the file ourselves. Imported on use: that SDK module pulls in
// most of OpenClaw's config layer (seconds to load on its own), and every `openclaw` command
// loads this plugin.
type Entries = Record<string, { enabled?: boolean; config?: Record<string, unknown> } | undefined>;

/** Applies `change` to nemoclaw's plugin config (created when absent) and writes the file. */
export async function updatePluginConfig(change: (config: Record<string, unknown>) => void): Promise<void> {
  const { mutateConfigFile } = await import("openclaw/plugin-sdk/config-mutation");
  await mutateConfigFile({
    mutate(draft) {
      const plugins = ((draft as { plugins?: { entries?: Entries } }).plugins ??= {});
      const entries = (plugins.entries ??= {});
      const entry = (entries.nemoclaw ??= {});
      change((entry.config ??= {}));
    },
  });
}
