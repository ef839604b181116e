// Onboarding = the steps below, in order. Each step checks what exists before it changes
// anything; the state file is written after every step, so a failure leaves a record the next
// run resumes from (its answers are reused, finished steps report "unchanged").
import type { ResolvedConfig } from "../config/resolve.js";
import { UserError } from "../errors.js";
import type { OnboardFlags } from "./options.js";
import type { Reporter } from "./reporter.js";
import { readOnboardState, writeOnboardState, type OnboardAnswers } from "./state.js";
import { carryOverStep } from "./steps/carry-over.js";
import { credentialStep } from "./steps/credential.js";
import { healthStep } from "./steps/health.js";
import { hostConfigStep } from "./steps/host-config.js";
import { policyStep } from "./steps/policy.js";
import { preflightStep } from "./steps/preflight.js";
import { providerStep } from "./steps/provider.js";
import { routeStep } from "./steps/route.js";
import { sandboxStep } from "./steps/sandbox.js";
import { startStep } from "./steps/start.js";
import type { OnboardContext, Step, StepOutcome } from "./types.js";
import type { Wizard } from "./wizard.js";

export const STEPS: readonly Step[] = [preflightStep, providerStep, credentialStep, policyStep, sandboxStep, routeStep, hostConfigStep, startStep, carryOverStep, healthStep];

export type StepReport = { id: string; title: string; ms: number } & StepOutcome;
export type OnboardReport = { ok: boolean; name: string; steps: StepReport[]; facts: Record<string, string>; error?: { message: string; hint?: string | undefined; details: readonly string[] } };

export async function runOnboarding(options: { config: ResolvedConfig; flags: OnboardFlags; name: string; wizard: Wizard | undefined; reporter: Reporter }): Promise<OnboardReport> {
  const { config, reporter } = options;
  const state = await readOnboardState(config.stateDir, options.name);
  const ctx: OnboardContext = {
    config,
    flags: options.flags,
    name: options.name,
    wizard: options.wizard,
    state,
    answers: {},
    progress: (m) => reporter.progress(m),
    facts: {},
  };
  const steps: StepReport[] = [];
  for (const step of STEPS) {
    reporter.begin(step.title);
    const started = performance.now();
    let outcome: StepOutcome;
    try {
      outcome = await step.run(ctx);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      reporter.fail(step.title, message);
      // What was decided so far is kept: the next run resumes with these answers.
      ctx.state = { ...ctx.state, answers: { ...ctx.state.answers, ...definedAnswers(ctx.answers) }, completedAt: null };
      await writeOnboardState(config.stateDir, ctx.state);
      if (e instanceof UserError) return { ok: false, name: ctx.name, steps, facts: ctx.facts, error: { message: `${step.title}: ${e.message}`, hint: e.hint, details: e.details } };
      throw e;
    }
    reporter.end(step.title, outcome);
    steps.push({ id: step.id, title: step.title, ms: Math.round(performance.now() - started), ...outcome });
    ctx.state = {
      ...ctx.state,
      answers: { ...ctx.state.answers, ...definedAnswers(ctx.answers) },
      steps: outcome.status === "done" || outcome.status === "unchanged" ? { ...ctx.state.steps, [step.id]: { status: outcome.status, at: new Date().toISOString() } } : ctx.state.steps,
    };
    await writeOnboardState(config.stateDir, ctx.state);
  }
  ctx.state = { ...ctx.state, completedAt: new Date().toISOString() };
  await writeOnboardState(config.stateDir, ctx.state);
  return { ok: true, name: ctx.name, steps, facts: ctx.facts };
}

function definedAnswers(a: Partial<OnboardAnswers>): Partial<OnboardAnswers> {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Partial<OnboardAnswers>;
}
