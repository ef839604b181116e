import type { OpenClawPluginApi } from "openclaw/plugin-sdk/plugin-entry";
import { resolvePluginConfig } from "../config/resolve.js";
import { action } from "./output.js";
import { doctor } from "./doctor.js";
import { blueprintVerify } from "./blueprint.js";
import { policyCheck, policyPresets } from "./policy.js";
import { notAvailableYet } from "./not-yet.js";

type Registrar = Parameters<OpenClawPluginApi["registerCli"]>[0];
type Program = Parameters<Registrar>[0]["program"];

export const CLI_DESCRIPTION = "Run OpenClaw in a locked-down sandbox: policy, sandboxes, approvals, diagnostics";

/** The `openclaw nemoclaw …` command tree. Config is parsed when a verb runs, not at registration. */
export function registerNemoclawCli(program: Program, pluginConfig: unknown): void {
  const config = () => resolvePluginConfig(pluginConfig);
  const root = program
    .command("nemoclaw")
    .description(CLI_DESCRIPTION)
    .addHelpText("after", "\nEvery verb that scripts use takes --json.");

  root
    .command("doctor")
    .description("Preflight: Node, Docker, Landlock, seccomp, cgroups, ports, state — each OK/FAIL with the fix")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => doctor(config(), opts)));

  const policy = root.command("policy").description("Check policy files and list presets (OpenShell format)");
  policy
    .command("check")
    .description("Validate a policy file (and presets merged into it); errors name file:line:column")
    .argument("<file>", "policy YAML file")
    .option("--preset <names>", "comma-separated presets to merge in", "")
    .option("--json", "machine-readable output")
    .action(action(async (file: string, opts: { preset: string; json?: boolean }) => policyCheck(file, opts)));
  policy
    .command("presets")
    .description("List the policy presets and what each allows")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => policyPresets(opts)));

  root
    .command("blueprint")
    .description("Inspect the nemoclaw runtime (blueprint)")
    .command("verify")
    .description("Recompute the runtime's digest: OK, or exactly which files differ")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => blueprintVerify(opts)));

  const later: Array<[string, string]> = [
    ["onboard", "Set up inference, policy and a sandbox in one guided step"],
    ["sandbox", "Create and list sandboxes"],
    ["approvals", "List pending egress approvals"],
    ["approve", "Approve a pending egress request"],
    ["deny", "Deny a pending egress request"],
    ["inference", "Show or switch the inference provider and model"],
    ["skill", "Test an untrusted skill in a throwaway sandbox"],
  ];
  for (const [name, description] of later) {
    root
      .command(name)
      .description(`${description} (not available yet)`)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(notAvailableYet(name));
  }
}
