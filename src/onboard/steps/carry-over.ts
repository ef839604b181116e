// The operator's OpenClaw state carried into the sandbox: agents, channel settings (tokens as
// placeholders of host credentials), skills settings and model providers (at inference.local)
// merged into the sandboxed gateway's config, and the workspace folders (AGENTS.md, SOUL.md,
// skills/…) copied into /sandbox/workspace. Runs after the start step (it writes inside, as the
// workload; the gateway applies the change live) and before the health check. The runtime
// reads the operator's file itself (`sandbox.carryover`), so no secret travels in an argv; the
// file is never written. Unchanged when the config and every file inside already match.
import os from "node:os";
import type { CarryOverResult } from "../../../blueprint/runtime/protocol.js";
import { runBlueprint } from "../../blueprint/run.js";
import { openclawStateDir } from "../../config/resolve.js";
import { operatorConfigFile } from "../operator-config.js";
import { target, type Step } from "../types.js";

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "2 agents, telegram channel (token as placeholder), 3 skills, workspace (5 files)". */
export function describeCarried(r: CarryOverResult): string {
  const parts: string[] = [];
  if (r.agents.length > 0) parts.push(`${plural(r.agents.length, "agent")} (${r.agents.join(", ")})`);
  for (const c of r.channels) {
    const tokens = c.placeholders.length === 0 ? "" : c.placeholders.length === 1 ? ", token as placeholder" : `, ${c.placeholders.length} tokens as placeholders`;
    parts.push(`${c.name} channel (${c.enabled ? "enabled" : "disabled"}${tokens})`);
  }
  const skills = [...new Set(r.workspaces.flatMap((w) => w.skills))];
  if (skills.length > 0) parts.push(`${plural(skills.length, "skill")} (${skills.join(", ")})`);
  if (r.skillSettings.length > 0) parts.push(`skills settings for ${r.skillSettings.join(", ")}`);
  if (r.providers.length > 0) parts.push(`${plural(r.providers.length, "model provider")} at inference.local (${r.providers.join(", ")})`);
  const files = r.workspaces.reduce((n, w) => n + w.files, 0);
  if (files > 0) parts.push(`workspace (${plural(files, "file")})`);
  return parts.length === 0 ? "nothing (no agents, channels, skills or workspace files found)" : parts.join(", ");
}

/** "a host path: a, b; plugins (plugins are not installed inside)": one reason, said once. */
export function groupByWhy(dropped: ReadonlyArray<{ path: string; why: string }>): string {
  const byWhy = new Map<string, string[]>();
  for (const d of dropped) byWhy.set(d.why, [...(byWhy.get(d.why) ?? []), d.path]);
  return [...byWhy].map(([why, paths]) => (paths.length === 1 ? `${paths[0]} (${why})` : `${paths.join(", ")} (${why})`)).join("; ");
}

export const carryOverStep: Step = {
  id: "carry-over",
  title: "Your OpenClaw state",
  async run(ctx) {
    const r = await runBlueprint(
      {
        command: "sandbox.carryover",
        ...target(ctx),
        name: ctx.name,
        configFile: operatorConfigFile(),
        home: process.env.HOME ?? os.homedir(),
        openclawStateDir: openclawStateDir(),
      },
      (p) => p.CarryOverResultSchema,
      { onProgress: (p) => ctx.progress(p.message) },
    );
    ctx.facts["Carried over"] = describeCarried(r);
    if (r.models.length > 0) ctx.facts["Models"] = `${r.models.join(", ")} → the sandbox's inference route`;
    if (r.dropped.length > 0) ctx.facts["Not carried"] = groupByWhy(r.dropped);
    if (r.warnings.length > 0) ctx.facts["Warning"] = r.warnings.join("; ");
    const skipped = r.workspaces.flatMap((w) => w.skipped.map((s) => `${s.path} (${s.why})`));
    if (skipped.length > 0) ctx.facts["Files skipped"] = skipped.join("; ");
    const written = r.workspaces.reduce((n, w) => n + w.written, 0);
    const added = r.credentials.filter((c) => c.status !== "unchanged").length;
    const changed = r.config === "updated" || written > 0 || added > 0;
    const what = [r.config === "updated" ? "config updated" : "config unchanged", `${plural(written, "file")} written`, ...(added > 0 ? [`${plural(added, "channel token")} stored on the host`] : [])];
    const warnings = r.warnings.map((w) => `; warning: ${w}`).join("");
    return { status: changed ? "done" : "unchanged", detail: `${describeCarried(r)}; ${what.join(", ")}${warnings}` };
  },
};
