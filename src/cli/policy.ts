import path from "node:path";
import { runBlueprint } from "../blueprint/run.js";
import { printJson, renderFields } from "./output.js";

export async function policyCheck(file: string, opts: { preset: string; json?: boolean }): Promise<void> {
  const presets = opts.preset.split(",").map((s) => s.trim()).filter(Boolean);
  const result = await runBlueprint(
    { command: "policy.check", file: path.resolve(file), presets },
    (p) => p.PolicyCheckResultSchema,
  );
  if (opts.json) {
    printJson({ ok: true, ...result });
    return;
  }
  const fields: Array<[string, string]> = [
    ["File", result.file],
    ["Presets", result.presets.join(", ") || "none"],
    ["Network policies", String(result.networkPolicies.length)],
  ];
  for (const np of result.networkPolicies) {
    fields.push([`  ${np.name}`, `${np.endpoints.join(", ") || "no endpoints"} (for ${np.binaries.join(", ") || "any binary"})`]);
  }
  const out = [renderFields("Policy OK", fields)];
  if (result.warnings.length) out.push("", ...result.warnings.map((w) => `  warning: ${w}`));
  process.stdout.write(`${out.join("\n")}\n`);
}

export async function policyPresets(opts: { json?: boolean }): Promise<void> {
  const { presets } = await runBlueprint({ command: "policy.presets" }, (p) => p.PresetsResultSchema);
  if (opts.json) {
    printJson({ presets });
    return;
  }
  const lines = ["Policy presets", ""];
  for (const p of presets) {
    lines.push(`  ${p.name}: ${p.description}`, `    allows: ${p.allows.join(", ") || "nothing"}`, ...p.permits.map((line) => `      ${line}`));
  }
  lines.push("", "  Use: openclaw nemoclaw policy check FILE --preset name1,name2");
  process.stdout.write(`${lines.join("\n")}\n`);
}
