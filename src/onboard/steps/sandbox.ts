// The sandbox: a gateway sandbox (its workload is OpenClaw's gateway), created once. The image
// is built or reused inside create (its progress is shown). An existing sandbox is kept: a
// changed preset list is applied live (the network part); --recreate destroys and rebuilds it.
// A sandbox of that name that onboarding did not make is never replaced without --recreate --yes.
import path from "node:path";
import { runBlueprint } from "../../blueprint/run.js";
import { UserError } from "../../errors.js";
import { openclawPackageDir } from "../../openclaw-package.js";
import { takesLaunch } from "../launch-adapter.js";
import { operatorConfigFile } from "../operator-config.js";
import { writeOnboardState } from "../state.js";
import { target, type Step } from "../types.js";
import { basePolicyFile } from "./policy.js";

export const sandboxStep: Step = {
  id: "sandbox",
  title: "Sandbox",
  async run(ctx) {
    const { sandboxes } = await runBlueprint({ command: "sandbox.list", ...target(ctx) }, (p) => p.SandboxListResultSchema);
    const existing = sandboxes.find((s) => s.name === ctx.name);
    const presets = ctx.answers.presets ?? [];
    const policy = ctx.answers.policy ?? null;
    if (existing && ctx.flags.recreate) {
      if (!ctx.state.createdSandbox && !ctx.flags.yes) {
        throw new UserError(`--recreate would destroy the sandbox ${ctx.name}, which onboarding did not create`, "add --yes to confirm, or pick another --name");
      }
      ctx.progress(`destroying ${ctx.name} (--recreate)`);
      await runBlueprint({ command: "sandbox.destroy", ...target(ctx), name: ctx.name, yes: true }, (p) => p.SandboxDestroyResultSchema);
    } else if (existing) {
      if (!ctx.state.createdSandbox) {
        throw new UserError(`a sandbox named ${ctx.name} already exists and onboarding did not create it`, "pick another --name, or replace it with --recreate --yes");
      }
      ctx.facts.Sandbox = `${ctx.name} (${existing.image})`;
      const samePolicy = (ctx.state.answers.policy ?? null) === policy;
      if (JSON.stringify(existing.presets) === JSON.stringify(presets) && samePolicy) return { status: "unchanged", detail: `${ctx.name} exists (${existing.state})` };
      ctx.progress("applying the changed policy (network part, live)");
      const r = await runBlueprint(
        { command: "sandbox.policy.apply", ...target(ctx), name: ctx.name, file: policy ?? basePolicyFile(), presets },
        (p) => p.SandboxPolicyApplyResultSchema,
      );
      return { status: "done", detail: `policy updated (${r.changed.join(", ") || "no network change"}${r.live ? ", in force now" : ""})` };
    }
    const openclawDir = openclawPackageDir();
    const created = await runBlueprint(
      {
        command: "sandbox.create",
        ...target(ctx),
        name: ctx.name,
        ...(ctx.config.baseImage ? { baseImage: ctx.config.baseImage } : {}),
        presets,
        ...(policy ? { policyFile: path.resolve(policy) } : {}),
        diskBytes: ctx.config.sandboxDiskBytes,
        ...(openclawDir ? { openclawDir } : {}),
        gateway: true,
        // The sandbox that takes over the operator's `openclaw gateway` checks the token their
        // CLI already sends (their config's gateway.auth.token), so `openclaw tui|agent|…` on the
        // host work unchanged against its relay; a second sandbox gets a token of its own.
        ...(takesLaunch(ctx.config.launch, ctx.name) ? { gatewayTokenFrom: operatorConfigFile() } : {}),
      },
      (p) => p.SandboxCreateResultSchema,
      { onProgress: (p) => ctx.progress(`${p.step}: ${p.message}${p.percent !== undefined ? ` (${p.percent}%)` : ""}`) },
    );
    // Recorded at once: from here on this sandbox is onboarding's to keep or rebuild.
    ctx.state = { ...ctx.state, createdSandbox: true };
    await writeOnboardState(ctx.config.stateDir, ctx.state);
    ctx.facts.Sandbox = `${created.name} (${created.image}; /sandbox on ${created.volume})`;
    if (created.gatewayToken === "host-config") ctx.facts["Gateway token"] = "the one in your OpenClaw config (gateway.auth.token): your openclaw CLI reaches it as is";
    return { status: "done", detail: `${created.name} created${existing ? " again (--recreate)" : ""}, OpenClaw ${created.openclaw ?? "?"}` };
  },
};
