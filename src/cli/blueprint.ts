import { blueprintDir } from "../package-root.js";
import { describeProblem, verifyBlueprint } from "../blueprint/verify.js";
import { printJson, renderFields } from "./output.js";

export async function blueprintVerify(opts: { json?: boolean }): Promise<void> {
  const result = await verifyBlueprint(blueprintDir);
  if (!result.ok) process.exitCode = 1;
  if (opts.json) {
    printJson({
      ok: result.ok,
      dir: result.dir,
      version: result.manifest?.version,
      digest: result.manifest?.digest,
      files: result.manifest?.files.length,
      problems: result.problems,
    });
    return;
  }
  const fields: Array<[string, string]> = [
    ["Blueprint", result.dir],
    ["Version", result.manifest?.version ?? "unknown"],
    ["Digest", result.manifest?.digest ?? "unknown"],
    ["Files", String(result.manifest?.files.length ?? 0)],
    ["Result", result.ok ? "OK" : `FAILED (${result.problems.length} problem${result.problems.length === 1 ? "" : "s"})`],
  ];
  const out = [renderFields("Blueprint verification", fields)];
  if (!result.ok) {
    out.push("", ...result.problems.map((p) => `  ${describeProblem(p)}`));
    out.push("", "  Next: reinstall the plugin (`openclaw plugins install nemoclaw --force`) or rebuild it (`npm run build`).");
  }
  process.stdout.write(`${out.join("\n")}\n`);
}
