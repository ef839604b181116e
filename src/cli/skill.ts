// `openclaw nemoclaw skill test <dir | clawhub:slug | npm spec | git url>`: the runtime runs the skill in a
// throwaway observing sandbox (blueprint/runtime/skill-test.ts); this prints its report and exits
// with its code:
//   0 nothing risky seen (with --policy: and no attempt the policy refuses)
//   1 the test could not run
//   2 risky behaviour seen
//   3 with --policy: attempts the policy refuses, nothing risky
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { UserError } from "../errors.js";
import { openclawPackageDir } from "../openclaw-package.js";
import { runInferenceCall } from "./inference.js";
import { printJson, renderFields } from "./output.js";
import { visible } from "../../blueprint/state/terminal-text.js";
import type { SkillReport } from "../../blueprint/runtime/protocol.js";

export interface SkillTestOptions {
  prompt: string[];
  prompts?: string;
  timeout: string;
  model?: string;
  baseUrl?: string;
  credential?: string;
  json?: boolean;
  keep?: boolean;
  policy?: string;
}

type TestRoute = { provider: string; model: string; baseUrl?: string; credential?: string };

/** `provider/model` → the route the throwaway sandbox gets. */
function parseModel(text: string): { provider: string; model: string } {
  const m = /^([a-z0-9-]+)\/(.+)$/.exec(text);
  if (m === null) {
    throw new UserError(`--model ${text}: expected <provider>/<model>`, "e.g. --model ollama/qwen3:8b or --model openai/gpt-5-mini (providers: openclaw nemoclaw inference providers)");
  }
  return { provider: m[1] as string, model: m[2] as string };
}

/**
 * The route to test with: --model (with --base-url, --credential), else the operator's own — the
 * inference route of the default sandbox (`inference get`), base URL and credential included.
 */
async function testRoute(config: ResolvedConfig, opts: SkillTestOptions): Promise<TestRoute> {
  const given = { ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}), ...(opts.credential ? { credential: opts.credential } : {}) };
  if (opts.model !== undefined) return { ...parseModel(opts.model), ...given };
  const sandbox = config.defaultSandbox;
  const current = await runInferenceCall(config, "inference/get", { sandbox }, (r) => r.InferenceGetResult).then((r) => r.current?.route, () => undefined);
  if (current === undefined) {
    throw new UserError(
      `--model is missing, and the default sandbox ${sandbox} has no inference route to use instead`,
      "pass --model <provider>/<model>, e.g. --model ollama/qwen3:8b (providers: openclaw nemoclaw inference providers), or set one with `openclaw nemoclaw <sandbox> inference set`",
    );
  }
  return { provider: current.provider, model: current.model, ...(current.baseUrl ? { baseUrl: current.baseUrl } : {}), ...(current.credential ? { credential: current.credential } : {}), ...given };
}

async function readPrompts(opts: SkillTestOptions): Promise<string[]> {
  const prompts = [...opts.prompt];
  if (opts.prompts !== undefined) {
    const text = await readFile(opts.prompts, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new UserError(`--prompts ${opts.prompts}: ${e.code === "ENOENT" ? "no such file" : e.message}`, "give a text file with one prompt per line");
    });
    prompts.push(...text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")));
  }
  return prompts;
}

export async function skillTest(config: ResolvedConfig, source: string, opts: SkillTestOptions): Promise<void> {
  const timeoutS = /^\d+$/.test(opts.timeout.trim()) ? Number(opts.timeout) : NaN;
  if (!Number.isSafeInteger(timeoutS) || timeoutS < 1) throw new UserError(`--timeout ${opts.timeout}: not a whole number of seconds`, "e.g. --timeout 300 (each prompt's limit, and the least time the sandbox is watched)");
  const route = await testRoute(config, opts);
  const openclawDir = openclawPackageDir();
  if (!openclawDir) throw new UserError("OpenClaw's package was not found", "skill test runs OpenClaw inside the sandbox; run it from an installed openclaw");
  const local = path.resolve(source);
  const clawhubUrl = process.env.OPENCLAW_CLAWHUB_URL?.trim() || process.env.CLAWHUB_URL?.trim();
  const report = await runBlueprint(
    {
      command: "skill.test",
      stateDir: config.stateDir,
      ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}),
      ...(config.baseImage ? { baseImage: config.baseImage } : {}),
      openclawDir,
      source: existsSync(local) ? local : source,
      ...(clawhubUrl ? { clawhubUrl } : {}),
      prompts: await readPrompts(opts),
      timeoutS,
      route,
      keep: opts.keep === true,
      ...(opts.policy ? { policyFile: path.resolve(opts.policy) } : {}),
    },
    (p) => p.SkillReportSchema,
    { onProgress: opts.json ? undefined : (p) => process.stderr.write(`  [${p.step}] ${visible(p.message)}\n`) },
  );
  if (opts.json) printJson(report);
  else process.stdout.write(`${renderReport(report)}\n`);
  process.exitCode = report.exitCode;
}

/** `text` cut to `max` characters, marked when cut. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

export function renderReport(r: SkillReport): string {
  const heading = `Skill ${r.skill.name}: ${r.verdict.risky ? "RISKY" : r.exitCode === 3 ? "needs more than the policy allows" : "nothing risky seen"}`;
  const out = [
    renderFields(heading, [
      ["Source", r.skill.source],
      ["Sandbox", `${r.sandbox.name} (${r.sandbox.kept ? "kept" : "destroyed"})`],
      ["Mode", r.mode === "observe" ? "observe (nothing left the sandbox)" : `against ${r.policyFile} (observed; nothing left the sandbox)`],
      ["Prompts", String(r.prompts.length)],
      ["Model calls", String(r.modelCalls)],
      ["OpenClaw's own requests", `${r.openclawCalls} (catalog, update check, ClawHub; refused, not counted against the skill)`],
      ["Exit code", String(r.exitCode)],
    ]),
  ];
  if (r.verdict.reasons.length > 0) {
    out.push("", "Verdict", "");
    for (const reason of r.verdict.reasons) {
      out.push(`  ${reason.code}: ${reason.message}`);
      for (const e of reason.evidence) out.push(`    ${e}`);
    }
  }
  out.push("", "Egress attempts", "");
  if (r.egress.length === 0) out.push("  none");
  for (const g of r.egress) {
    out.push(`  ${g.count}x ${g.binary ?? "(unidentified)"} -> ${g.host}:${g.port} (${g.policyAllows ? "policy allows" : "policy refuses"}; prompts ${g.prompts.map((p) => (p < 0 ? "after" : String(p + 1))).join(", ")})`);
    for (const q of g.requests) out.push(`    ${q.count}x ${q.method} ${q.path}`);
  }
  out.push("", "Commands and tool calls", "");
  if (r.toolCalls.length === 0) out.push("  none");
  for (const c of r.toolCalls) {
    out.push(`  [${c.prompt < 0 ? "after" : `prompt ${c.prompt + 1}`}] ${c.tool}: ${clip(c.text, 200)}`);
    // What it got back (the transcript's start of it): its first line, and how many more.
    const lines = (c.result ?? "").split("\n").filter((l) => l.trim() !== "");
    if (lines.length > 0) out.push(`      answered: ${clip(lines[0] ?? "", 160)}${lines.length > 1 ? ` (+${lines.length - 1} more lines)` : ""}`);
  }
  out.push("", "Files written under /sandbox", "");
  if (r.files.length === 0) out.push("  none");
  for (const f of r.files) out.push(`  ${f.change} ${f.path} (${f.size} bytes${f.executable ? ", executable" : ""})`);
  out.push("", "Suggested policy (save it and check it with `openclaw nemoclaw policy check FILE`)", "", r.suggestedPolicy.trimEnd());
  // Line by line: text from inside (commands, paths, hosts) is made terminal-safe, our newlines stay.
  return out.flatMap((block) => block.split("\n")).map(visible).join("\n");
}
