// The shape every onboarding step shares. A step looks at what exists (the runtime's answers,
// the state file) before it changes anything, so re-running reports "unchanged" instead of
// redoing work, and a run that failed part-way resumes at the step that failed.
import type { ResolvedConfig } from "../config/resolve.js";
import type { OnboardFlags } from "./options.js";
import type { OnboardAnswers, OnboardState } from "./state.js";
import type { Wizard } from "./wizard.js";

export type StepStatus = "done" | "unchanged" | "ok" | "warn" | "skipped";
export type StepOutcome = { status: StepStatus; detail: string };

export interface OnboardContext {
  config: ResolvedConfig;
  flags: OnboardFlags;
  name: string;
  /** Present only when a person answers questions (a TTY and no --non-interactive). */
  wizard: Wizard | undefined;
  state: OnboardState;
  /** Filled in by the provider, credential and policy steps; recorded in the state file. */
  answers: Partial<OnboardAnswers>;
  /** One line about what a long step is doing now. */
  progress: (message: string) => void;
  /** What the summary shows, collected by the steps. */
  facts: Record<string, string>;
}

export interface Step {
  id: string;
  title: string;
  run(ctx: OnboardContext): Promise<StepOutcome>;
}

/** `{stateDir, dockerHost?}`: where every runtime request acts. */
export function target(ctx: OnboardContext): { stateDir: string; dockerHost?: string } {
  return { stateDir: ctx.config.stateDir, ...(ctx.config.dockerHost ? { dockerHost: ctx.config.dockerHost } : {}) };
}
