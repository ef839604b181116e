// The provider's key, stored on the host (credentials.json, 0600) under a name of this sandbox's
// own (`<sandbox>-<provider>`), so onboarding a second sandbox with another key never replaces
// the first one's. The key travels from the environment variable to the runtime's stdin, never
// through an argv. Unchanged when the stored fingerprint already matches the key.
import { createHash } from "node:crypto";
import { runBlueprint } from "../../blueprint/run.js";
import { runInferenceCall } from "../../cli/inference.js";
import { UserError } from "../../errors.js";
import type { Step } from "../types.js";

const KIND_OF: Record<string, string> = { openai: "openai", anthropic: "anthropic", nvidia: "nvidia", gemini: "gemini", openrouter: "openrouter" };

export function credentialName(sandbox: string, provider: string): string {
  return `${sandbox}-${provider}`.slice(0, 63);
}

export const credentialStep: Step = {
  id: "credential",
  title: "Credential on the host",
  async run(ctx) {
    const { provider, apiKeyEnv } = ctx.answers;
    if (provider === undefined || apiKeyEnv == null) {
      ctx.answers.credential = null;
      return { status: "skipped", detail: "no key needed" };
    }
    const name = credentialName(ctx.name, provider);
    ctx.answers.credential = name;
    const { credentials } = await runInferenceCall(ctx.config, "credentials/list", {}, (r) => r.CredentialsListResult);
    const secret = process.env[apiKeyEnv] ?? "";
    const stored = credentials.find((c) => c.name === name);
    if (secret === "") {
      // A re-run in a shell without the variable keeps the key stored earlier; an explicit flag must have it.
      if (stored && ctx.flags.apiKeyEnv === undefined) {
        ctx.facts.Credential = `${name} (fingerprint ${stored.fingerprint}; the sandbox sees a placeholder)`;
        return { status: "unchanged", detail: `${name} kept (stored earlier; $${apiKeyEnv} is not set now)` };
      }
      throw new UserError(`the environment variable ${apiKeyEnv} is not set (or empty) in this shell`, `export ${apiKeyEnv}=… and run onboard again`);
    }
    const fingerprint = createHash("sha256").update(secret).digest("hex").slice(0, 8);
    ctx.facts.Credential = `${name} (fingerprint ${fingerprint}; the sandbox sees a placeholder)`;
    if (stored?.fingerprint === fingerprint) return { status: "unchanged", detail: `${name} already stored (from $${apiKeyEnv})` };
    await runBlueprint(
      { command: "credentials.add", stateDir: ctx.config.stateDir, name, kind: KIND_OF[provider] ?? "generic" },
      (p) => p.InferenceRoutes.CredentialsAddResult,
      { input: secret },
    );
    return { status: "done", detail: `${name} stored from $${apiKeyEnv} (0600, host only)` };
  },
};
