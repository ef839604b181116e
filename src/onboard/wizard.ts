// The questions a person answers when onboarding runs on a terminal (@clack/prompts: arrow keys,
// defaults preselected). Only asked for what neither a flag nor an earlier run settled; Ctrl-C
// or Esc ends onboarding with nothing more made.
import * as p from "@clack/prompts";
import { UserError } from "../errors.js";
import type { Detected } from "./detect.js";
import { NO_PROVIDER } from "./options.js";

type ProviderSpec = { kind: string; label: string; key: "required" | "optional" | "none"; defaultBaseUrl: string | null };
type Preset = { name: string; description: string };

function answered<T>(value: T): Exclude<T, symbol> {
  if (typeof value === "symbol" || p.isCancel(value)) throw new UserError("onboarding cancelled", "run `openclaw nemoclaw onboard` again when ready; it resumes where it stopped");
  return value as Exclude<T, symbol>;
}

export interface Wizard {
  chooseName(fallback: string): Promise<string>;
  chooseProvider(offers: Detected[], providers: ProviderSpec[]): Promise<{ provider: string; detected?: Detected }>;
  chooseModel(label: string, served: string[], fallback: string | undefined): Promise<string>;
  choosePresets(all: Preset[], implied: string[]): Promise<string[]>;
}

/** `wizard` with `before()` called ahead of every question (the reporter's pause). */
export function askingAfter(before: () => void, wizard: Wizard): Wizard {
  return {
    chooseName: (...a) => (before(), wizard.chooseName(...a)),
    chooseProvider: (...a) => (before(), wizard.chooseProvider(...a)),
    chooseModel: (...a) => (before(), wizard.chooseModel(...a)),
    choosePresets: (...a) => (before(), wizard.choosePresets(...a)),
  };
}

export const clackWizard: Wizard = {
  async chooseName(fallback) {
    return answered(await p.text({ message: "Sandbox name", placeholder: fallback, defaultValue: fallback, validate: (v) => (v && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(v) ? "lowercase letters, digits and '-' (an RFC 1123 label)" : undefined) }));
  },
  async chooseProvider(offers, providers) {
    type Option = { value: string; label: string; hint?: string };
    const options: Option[] = [
      ...offers.map((o, i) => ({ value: `detected:${i}`, label: o.label, hint: "found on this host" })),
      ...providers.map((s) => ({ value: s.kind, label: s.label, hint: s.key === "required" ? "needs a key" : (s.defaultBaseUrl ?? "needs a base URL") })),
      { value: NO_PROVIDER, label: "None for now", hint: "set it later with `inference set`" },
    ];
    const choice = answered(await p.select({ message: "Inference provider (the key stays on this host)", options, initialValue: options[0]?.value }));
    if (choice.startsWith("detected:")) {
      const detected = offers[Number(choice.slice("detected:".length))] as Detected;
      return { provider: detected.provider, detected };
    }
    return { provider: choice };
  },
  async chooseModel(label, served, fallback) {
    if (served.length > 0) {
      return answered(await p.select({ message: `Model (${label})`, options: served.map((m) => ({ value: m, label: m })), initialValue: served[0] }));
    }
    return answered(await p.text({ message: `Model id (${label})`, ...(fallback ? { placeholder: fallback, defaultValue: fallback } : {}), validate: (v) => (!v && !fallback ? "a model id is needed" : undefined) }));
  },
  async choosePresets(all, implied) {
    return answered(
      await p.multiselect({
        message: "Policy presets (space toggles; your OpenClaw config's channels are preselected)",
        options: all.map((x) => ({ value: x.name, label: x.name, hint: x.description })),
        initialValues: implied.filter((n) => all.some((x) => x.name === n)),
        required: false,
      }),
    );
  },
};
