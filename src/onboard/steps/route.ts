// The sandbox's inference route: provider, model, base URL and which stored key, set only when
// it differs from what the router already has (in force on the sandbox's next request).
import { runInferenceCall } from "../../cli/inference.js";
import { NO_PROVIDER } from "../options.js";
import type { Step } from "../types.js";

export const routeStep: Step = {
  id: "route",
  title: "Inference route",
  async run(ctx) {
    const { provider, model, baseUrl, credential } = ctx.answers;
    if (provider === undefined || provider === NO_PROVIDER || model == null) return { status: "skipped", detail: "no provider chosen" };
    const { current } = await runInferenceCall(ctx.config, "inference/get", { sandbox: ctx.name }, (r) => r.InferenceGetResult);
    const r = current?.route;
    if (r && r.provider === provider && r.model === model && (r.baseUrl ?? null) === (baseUrl ?? null) && (r.credential ?? null) === (credential ?? null)) {
      return { status: "unchanged", detail: `${provider}/${model} → ${current?.baseUrl}` };
    }
    const set = await runInferenceCall(
      ctx.config,
      "inference/set",
      { sandbox: ctx.name, provider, model, ...(baseUrl ? { baseUrl } : {}), ...(credential ? { credential } : {}) },
      (x) => x.InferenceSetResult,
    );
    return { status: "done", detail: `${provider}/${model} → ${set.baseUrl}${set.warnings.length ? ` (${set.warnings.join("; ")})` : ""}` };
  },
};
