// Preflight: the doctor's checks. A FAIL stops onboarding with its fix. The host port check is
// only a warning here: the relay binds it when the gateway is started, not during onboarding,
// and a second sandbox must onboard while the first one's gateway holds the port.
import { runBlueprint } from "../../blueprint/run.js";
import { describeProblem, verifyBlueprint } from "../../blueprint/verify.js";
import { UserError } from "../../errors.js";
import { blueprintDir } from "../../package-root.js";
import { operatorGatewayPort } from "../launch-adapter.js";
import { target, type Step } from "../types.js";

export const preflightStep: Step = {
  id: "preflight",
  title: "Preflight",
  async run(ctx) {
    const verification = await verifyBlueprint(blueprintDir);
    if (!verification.ok) {
      throw new UserError("the nemoclaw runtime failed verification", "reinstall the plugin (`openclaw plugins install nemoclaw --force`)", verification.problems.map(describeProblem));
    }
    ctx.progress("checking Docker, Landlock, seccomp, cgroups and the state directory");
    // The port the start step will bind; not checked when it is any free one (0) or the one this
    // sandbox's own relay already holds from an earlier run.
    const port = ctx.flags.port ?? ctx.state.answers.port ?? (await operatorGatewayPort());
    const ports = port === 0 || port === ctx.state.answers.port ? [] : [port];
    const { checks } = await runBlueprint(
      { command: "doctor", ...target(ctx), ports, ...(ctx.config.baseImage ? { baseImage: ctx.config.baseImage } : {}) },
      (p) => p.DoctorResultSchema,
    );
    const failed = checks.filter((c) => c.status === "fail" && c.name !== "Ports");
    if (failed.length > 0) {
      throw new UserError(
        `preflight failed: ${failed.map((c) => c.name).join(", ")}`,
        `fix what is listed, then run onboard again (it resumes); \`openclaw nemoclaw doctor\` shows every check`,
        failed.map((c) => `${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ""}`),
      );
    }
    const warnings = checks.filter((c) => c.status !== "ok");
    return warnings.length === 0
      ? { status: "ok", detail: `${checks.length} checks passed` }
      : { status: "warn", detail: warnings.map((c) => `${c.name}: ${c.detail}`).join("; ") };
  },
};
