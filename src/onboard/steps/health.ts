// Health: the sandboxed gateway answers /readyz through its relay socket, and a process inside
// makes one minimal model call to inference.local through the forwarder, the policy, the router
// and the provider (so a rejected key or a wrong model fails here, with the provider's words and
// the router's hint). Either failing stops onboarding with where to look; everything before it
// stays as made, so the next run resumes here.
import { runBlueprint } from "../../blueprint/run.js";
import { UserError } from "../../errors.js";
import { NO_PROVIDER } from "../options.js";
import { target, type Step } from "../types.js";

/** Generous: OpenClaw's first start on a loaded machine can take minutes; the gateway ending early ends the wait. */
const READY_TIMEOUT_MS = 600_000;

export const healthStep: Step = {
  id: "health",
  title: "Health check",
  async run(ctx) {
    const h = await runBlueprint({ command: "gateway.health", ...target(ctx), name: ctx.name, timeoutMs: READY_TIMEOUT_MS }, (p) => p.GatewayHealthResultSchema, {
      onProgress: (p) => ctx.progress(p.message),
    });
    if (!h.gateway.ready) throw new UserError(`the gateway inside ${ctx.name} is not answering: ${h.gateway.detail}`, `see \`openclaw nemoclaw ${ctx.name} logs\`, then run onboard again`);
    ctx.facts.Gateway = `answering inside ${ctx.name} (${h.gateway.detail})`;
    const noRoute = ctx.answers.provider === NO_PROVIDER;
    if (!h.inference.ok && !noRoute) {
      throw new UserError(`inference from inside ${ctx.name} failed: ${h.inference.detail}`, `see \`openclaw nemoclaw ${ctx.name} logs --inference\` and \`openclaw nemoclaw ${ctx.name} inference get\``);
    }
    ctx.facts["Model call"] = noRoute ? `no route yet (${h.inference.detail})` : h.inference.detail;
    return { status: "ok", detail: `gateway ready; ${noRoute ? "no model route" : `a model call through inference.local succeeded (${h.inference.models.join(", ")})`}` };
  },
};
