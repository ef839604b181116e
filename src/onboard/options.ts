// The onboarding's inputs, from flags and the environment, checked once with zod. Every flag
// has an environment variable (NEMOCLAW_<FLAG>) so CI and scripts/setup.sh can drive it;
// a flag wins over its variable. Interactive answers fill in what neither gave.
import { z } from "zod";
import { dockerHostSchema, SandboxNameSchema } from "../config/schema.js";
import { UserError } from "../errors.js";

/** `--provider none`: no inference route (the sandbox still runs; model calls get 503 no_route). */
export const NO_PROVIDER = "none";

const list = z
  .string()
  .transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean));

export const OnboardFlagsSchema = z
  .object({
    name: SandboxNameSchema.optional(),
    provider: z.string().regex(/^[a-z][a-z0-9-]*$/, "a provider kind such as openai, anthropic, ollama or vllm (or none)").optional(),
    model: z.string().min(1).optional(),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "the NAME of an environment variable that holds the key, e.g. OPENAI_API_KEY").optional(),
    baseUrl: z.url({ protocol: /^https?$/, error: "an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1" }).optional(),
    preset: list.optional(),
    policy: z.string().min(1).optional(),
    dockerHost: dockerHostSchema("a Docker URL such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host").optional(),
    /** The gateway's port on the host's 127.0.0.1 (0: any free one). */
    port: z.coerce.number().int("a TCP port, e.g. 18789 (0: any free one)").min(0).max(65535).optional(),
    recreate: z.boolean().optional(),
    yes: z.boolean().optional(),
    json: z.boolean().optional(),
    nonInteractive: z.boolean().optional(),
  })
  .strict();
export type OnboardFlags = z.infer<typeof OnboardFlagsSchema>;

const ENV: Record<string, keyof OnboardFlags> = {
  NEMOCLAW_NAME: "name",
  NEMOCLAW_PROVIDER: "provider",
  NEMOCLAW_MODEL: "model",
  NEMOCLAW_API_KEY_ENV: "apiKeyEnv",
  NEMOCLAW_BASE_URL: "baseUrl",
  NEMOCLAW_PRESET: "preset",
  NEMOCLAW_POLICY: "policy",
  NEMOCLAW_PORT: "port",
};

const FLAG: Record<string, string> = { apiKeyEnv: "--api-key-env", baseUrl: "--base-url", dockerHost: "--docker-host", nonInteractive: "--non-interactive" };

/** Flags (commander's camelCase object) merged over NEMOCLAW_* variables; a bad value names its flag. */
export function parseOnboardFlags(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): OnboardFlags {
  const merged: Record<string, unknown> = {};
  for (const [variable, key] of Object.entries(ENV)) {
    const value = env[variable];
    if (value !== undefined && value !== "") merged[key] = value;
  }
  for (const [key, value] of Object.entries(raw)) if (value !== undefined) merged[key] = value;
  const parsed = OnboardFlagsSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = String(issue?.path[0] ?? "");
  const flag = FLAG[key] ?? `--${key}`;
  if (issue?.code === "unrecognized_keys") {
    throw new UserError(`unknown option ${issue.keys.map((k) => FLAG[k] ?? `--${k}`).join(", ")}`, "see `openclaw nemoclaw onboard --help`");
  }
  throw new UserError(`${flag} ${JSON.stringify(merged[key])}: ${issue?.message}`, "see `openclaw nemoclaw onboard --help`");
}
