// Presets and the policy file: flags, else what an earlier run chose, else (in the wizard) the
// presets the operator's OpenClaw config implies, offered preselected. The composed policy is
// validated here, before the sandbox step, so a bad --policy stops onboarding with the file's
// line and column and nothing else made; the next run resumes from this step.
import path from "node:path";
import { runBlueprint } from "../../blueprint/run.js";
import { packageRoot } from "../../package-root.js";
import { impliedPresets, readOperatorConfig } from "../operator-config.js";
import type { Step } from "../types.js";

export function basePolicyFile(): string {
  return path.join(packageRoot, "policies", "openclaw-sandbox.yaml");
}

export const policyStep: Step = {
  id: "policy",
  title: "Policy and presets",
  async run(ctx) {
    const previous = ctx.state.answers;
    const operator = await readOperatorConfig();
    const implied = impliedPresets(operator.config);
    let presets = ctx.flags.preset ?? previous.presets;
    if (presets === undefined) {
      if (ctx.wizard) {
        const { presets: all } = await runBlueprint({ command: "policy.presets" }, (p) => p.PresetsResultSchema);
        presets = await ctx.wizard.choosePresets(all, implied);
      } else {
        presets = [];
      }
    }
    const policy = ctx.flags.policy !== undefined ? path.resolve(ctx.flags.policy) : (previous.policy ?? null);
    ctx.progress(`checking ${policy ?? "the base policy"}${presets.length ? ` with ${presets.join(", ")}` : ""}`);
    const checked = await runBlueprint({ command: "policy.check", file: policy ?? basePolicyFile(), presets }, (p) => p.PolicyCheckResultSchema);
    ctx.answers = { ...ctx.answers, presets: checked.presets, policy };
    ctx.facts.Policy = `${policy ?? "base (default deny)"}${checked.presets.length ? ` + ${checked.presets.join(", ")}` : ""}`;
    const unsuggested = implied.filter((p) => !checked.presets.includes(p));
    const hint = unsuggested.length ? `; your OpenClaw config suggests --preset ${unsuggested.join(",")}` : "";
    const same = JSON.stringify(previous.presets ?? null) === JSON.stringify(checked.presets) && (previous.policy ?? null) === policy;
    return { status: same ? "unchanged" : "done", detail: `${checked.networkPolicies.length} network policies${hint}` };
  },
};
