// Provider and model: flags first, then what an earlier run recorded, then what the host offers
// (keys in the environment, local servers on loopback) — asked in the wizard, taken in order
// when nobody is there to ask. Nothing found and nothing given is an error that lists exactly
// how to pick one, including `--provider none` (a sandbox without a model route).
import { runInferenceCall } from "../../cli/inference.js";
import { UserError } from "../../errors.js";
import { defaultModelFor, detectInference, keyVariableFor, listModels, type Detected } from "../detect.js";
import { NO_PROVIDER } from "../options.js";
import type { Step } from "../types.js";

export const HOW_TO_PICK = [
  "export a key and run again: export OPENAI_API_KEY=… (or ANTHROPIC_API_KEY, NVIDIA_API_KEY, GEMINI_API_KEY)",
  "or start a local server on this host: ollama serve (127.0.0.1:11434), vLLM (:8000), llama.cpp (:8080), LM Studio (:1234)",
  "or name one: --provider vllm --base-url http://127.0.0.1:8000/v1 --model MODEL [--api-key-env VAR]",
  "or onboard without a model for now: --provider none (set it later: openclaw nemoclaw <name> inference set …)",
];

export const providerStep: Step = {
  id: "provider",
  title: "Provider and model",
  async run(ctx) {
    const { providers } = await runInferenceCall(ctx.config, "inference/providers", {}, (r) => r.ProvidersResult);
    const previous = ctx.state.answers;
    let provider = ctx.flags.provider ?? previous.provider;
    let detected: Detected | undefined;
    if (provider === undefined) {
      ctx.progress("looking for provider keys in the environment and model servers on 127.0.0.1");
      const offers = await detectInference();
      if (ctx.wizard) {
        const choice = await ctx.wizard.chooseProvider(offers, providers);
        provider = choice.provider;
        detected = choice.detected;
      } else {
        detected = offers[0];
        if (detected === undefined) throw new UserError("no inference provider given and none found on this host", "pick one of the ways below, then run onboard again", HOW_TO_PICK);
        provider = detected.provider;
      }
    }
    const samePrevious = previous.provider === provider;
    if (provider === NO_PROVIDER) {
      ctx.answers = { ...ctx.answers, provider, model: null, baseUrl: null, apiKeyEnv: null };
      ctx.facts.Inference = "none yet (model calls get 503 no_route)";
      return { status: samePrevious ? "unchanged" : "done", detail: "no model route (--provider none)" };
    }
    const spec = providers.find((p) => p.kind === provider);
    if (spec === undefined) {
      throw new UserError(`unknown provider "${provider}"`, `use one of: ${[...providers.map((p) => p.kind), NO_PROVIDER].join(", ")}`);
    }
    const baseUrl = ctx.flags.baseUrl ?? (detected?.kind === "server" ? detected.baseUrl : undefined) ?? (samePrevious ? previous.baseUrl : undefined) ?? null;
    if (baseUrl === null && spec.defaultBaseUrl === null) {
      throw new UserError(`${spec.label} has no default address`, `give it: --base-url http://HOST:PORT/v1`);
    }
    let model = ctx.flags.model ?? (samePrevious ? previous.model : undefined) ?? undefined;
    if (model == null) {
      const served = detected?.kind === "server" ? detected.models : spec.key !== "required" ? await listModels(`${(baseUrl ?? spec.defaultBaseUrl ?? "").replace(/\/+$/, "")}/models`) : undefined;
      model = ctx.wizard ? await ctx.wizard.chooseModel(spec.label, served ?? [], defaultModelFor(provider)) : (served?.[0] ?? defaultModelFor(provider));
    }
    if (model == null) throw new UserError(`no model given for ${spec.label}`, `add --model MODEL (the id ${spec.label} knows it by)`);
    // An explicit flag, the variable the key was detected in, the one an earlier run read (its
    // key is stored; the variable need not be set again), else the conventional one when set.
    const conventional = keyVariableFor(provider);
    const apiKeyEnv =
      ctx.flags.apiKeyEnv ??
      (detected?.kind === "key" ? detected.envVar : undefined) ??
      (samePrevious && previous.apiKeyEnv ? previous.apiKeyEnv : undefined) ??
      (conventional !== undefined && (process.env[conventional] ?? "") !== "" ? conventional : null);
    if (spec.key === "required" && apiKeyEnv === null) {
      throw new UserError(`${spec.label} needs a key and none was given`, `export ${keyVariableFor(provider) ?? "MY_KEY"}=… and pass --api-key-env ${keyVariableFor(provider) ?? "MY_KEY"}`);
    }
    ctx.answers = { ...ctx.answers, provider, model, baseUrl, apiKeyEnv: spec.key === "none" ? null : apiKeyEnv };
    ctx.facts.Inference = `${spec.label}, model ${model}, ${baseUrl ?? spec.defaultBaseUrl}`;
    const unchanged = samePrevious && previous.model === model && previous.baseUrl === baseUrl && (previous.apiKeyEnv ?? null) === ctx.answers.apiKeyEnv;
    return { status: unchanged ? "unchanged" : "done", detail: `${provider} / ${model}${baseUrl ? ` at ${baseUrl}` : ""}` };
  },
};
