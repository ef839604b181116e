// The operator's OpenClaw config: snapshotted byte for byte (once) for a later eject, and
// nemoclaw recorded as enabled for this sandbox through the launch adapter; with --docker-host,
// that engine recorded as nemoclaw's `dockerHost`, so every later verb (and the launch of
// `openclaw gateway`) finds the sandbox where onboarding put it. Nothing else in it is touched.
import { updatePluginConfig } from "../../config/write.js";
import { enableLaunch } from "../launch-adapter.js";
import { readOperatorConfig, recordOnboardedConfig, snapshotOperatorConfig } from "../operator-config.js";
import type { Step } from "../types.js";

export const hostConfigStep: Step = {
  id: "host-config",
  title: "Your OpenClaw config",
  async run(ctx) {
    const operator = await readOperatorConfig();
    let snapshot = "no config file yet: nothing to snapshot";
    let made = false;
    if (operator.exists) {
      const s = await snapshotOperatorConfig(ctx.config.stateDir, operator.file);
      made = s.made;
      snapshot = `${s.made ? "snapshot kept" : "snapshot already kept"} at ${s.snapshot}`;
    }
    const launch = await enableLaunch(ctx.config, ctx.name);
    const engine = ctx.flags.dockerHost;
    let engineChanged = false;
    if (engine) {
      await updatePluginConfig((config) => {
        engineChanged = config.dockerHost !== engine;
        config.dockerHost = engine;
      });
      ctx.facts.Engine = `${engine}${engineChanged ? " (recorded as nemoclaw's dockerHost: every verb uses it from now on)" : ""}`;
    }
    if (made) await recordOnboardedConfig(ctx.config.stateDir, operator.file);
    ctx.facts["Host config"] = `${operator.file} (${snapshot})`;
    ctx.facts.Launch = launch.detail;
    return { status: made || launch.changed || engineChanged ? "done" : "unchanged", detail: `${snapshot}${engineChanged ? `; dockerHost ${engine}` : ""}` };
  },
};
