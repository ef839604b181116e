// `openclaw nemoclaw onboard`: the wizard on a terminal, flags and NEMOCLAW_* variables
// everywhere else (--non-interactive, or stdin not a TTY). Steps and their order: src/onboard/run.ts.
import * as p from "@clack/prompts";
import type { ResolvedConfig } from "../config/resolve.js";
import { SandboxNameSchema } from "../config/schema.js";
import { UserError } from "../errors.js";
import { parseOnboardFlags } from "../onboard/options.js";
import { clackReporter, lineReporter, silentReporter } from "../onboard/reporter.js";
import { runOnboarding } from "../onboard/run.js";
import { renderSummary } from "../onboard/summary.js";
import { askingAfter, clackWizard } from "../onboard/wizard.js";
import { printJson, reportError } from "./output.js";

export async function onboard(config: ResolvedConfig, raw: Record<string, unknown>, reserved: readonly string[]): Promise<void> {
  const flags = parseOnboardFlags(raw);
  const interactive = !flags.nonInteractive && !flags.json && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY);
  const resolved = flags.dockerHost ? { ...config, dockerHost: flags.dockerHost } : config;
  if (interactive) p.intro("nemoclaw onboard: OpenClaw in a locked-down sandbox");
  const name = flags.name ?? (interactive ? await clackWizard.chooseName(config.defaultSandbox) : config.defaultSandbox);
  const parsedName = SandboxNameSchema.safeParse(name);
  if (!parsedName.success) throw new UserError(`"${name}" is not a valid sandbox name`, parsedName.error.issues[0]?.message);
  if (reserved.includes(name)) throw new UserError(`"${name}" is a nemoclaw verb and cannot name a sandbox`, "pick another --name");
  const reporter = flags.json ? silentReporter : interactive ? clackReporter() : lineReporter();
  const report = await runOnboarding({ config: resolved, flags, name, wizard: interactive ? askingAfter(() => reporter.pause(), clackWizard) : undefined, reporter });
  if (flags.json) {
    printJson(report);
    if (!report.ok) process.exitCode = 1;
    return;
  }
  if (!report.ok && report.error) {
    reportError(new UserError(report.error.message, report.error.hint ?? "fix it and run onboard again: it resumes where it stopped", report.error.details), false);
    return;
  }
  if (interactive) p.outro(`Sandbox ${name} is ready`);
  process.stdout.write(renderSummary(report));
}
