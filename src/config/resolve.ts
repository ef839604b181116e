import os from "node:os";
import path from "node:path";
import { DEFAULTS, PluginConfigSchema, type LaunchConfig } from "./schema.js";
import { UserError } from "../errors.js";
import { parseSize } from "./size.js";

export type ResolvedConfig = {
  defaultSandbox: string;
  stateDir: string;
  dockerHost: string | undefined;
  /** Unset: the runtime's default base image. */
  baseImage: string | undefined;
  /** /sandbox size limit for new sandboxes, bytes; 0 for none. */
  sandboxDiskBytes: number;
  /** Unset: `openclaw gateway` is not intercepted (nothing onboarded yet). */
  launch: LaunchConfig | undefined;
};

/** OpenClaw's own state dir, by the same rules OpenClaw uses (env override, else ~/.openclaw). */
export function openclawStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OPENCLAW_STATE_DIR) return path.resolve(env.OPENCLAW_STATE_DIR);
  const home = env.OPENCLAW_HOME ?? env.HOME ?? os.homedir();
  return path.join(home, ".openclaw");
}

/** Parse the raw plugin config once, at the edge; a present-but-invalid config is an error, never a fallback. */
export function resolvePluginConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const parsed = PluginConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  plugins.entries.nemoclaw.config.${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new UserError(
      `The nemoclaw plugin config is invalid:\n${lines.join("\n")}`,
      "Fix it with `openclaw config edit` (or `openclaw config unset plugins.entries.nemoclaw.config.<field>`).",
    );
  }
  const c = parsed.data;
  const defaultSandbox = c.defaultSandbox ?? DEFAULTS.defaultSandbox;
  return {
    defaultSandbox,
    stateDir: c.stateDir ? path.resolve(c.stateDir) : path.join(openclawStateDir(env), "nemoclaw"),
    dockerHost: c.dockerHost ?? env.DOCKER_HOST,
    baseImage: c.baseImage ?? env.NEMOCLAW_BASE_IMAGE,
    sandboxDiskBytes: parseSize(c.sandboxDisk ?? DEFAULTS.sandboxDisk),
    launch: c.launch,
  };
}
