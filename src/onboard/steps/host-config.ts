// The operator's OpenClaw config: snapshotted byte for byte (once) for a later eject, and
// nemoclaw recorded as enabled for this sandbox through the launch adapter. Nothing else in it
// is touched.
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
    if (made) await recordOnboardedConfig(ctx.config.stateDir, operator.file);
    ctx.facts["Host config"] = `${operator.file} (${snapshot})`;
    ctx.facts.Launch = launch.detail;
    return { status: made || launch.changed ? "done" : "unchanged", detail: snapshot };
  },
};
