// `openclaw nemoclaw status [--json]`: every sandbox with its layers in force (read from inside),
// policy revision, inference route, pending approvals and gateway; the daemon; disk use.
// Exit code 3 when a running sandbox has a layer that is not in force, so scripts can gate on it.
import type { OverviewResult, OverviewSandbox } from "../../blueprint/runtime/protocol.js";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { printJson, renderFields } from "./output.js";
import { target } from "./sandbox.js";

export const LAYER_NOT_IN_FORCE_EXIT = 3;

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function layersFailing(s: OverviewSandbox): boolean {
  if (s.state !== "running") return false;
  if (s.layers === null || typeof s.layers === "string") return true;
  return !s.layers.network.ok || !s.layers.filesystem.ok || !s.layers.process.ok;
}

function sandboxFields(s: OverviewSandbox): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  if (s.layers === null) fields.push(["Layers", s.state === "running" ? "not read" : `not running (start it: openclaw nemoclaw ${s.name} start)`]);
  else if (typeof s.layers === "string") fields.push(["Layers", `UNKNOWN: ${s.layers}`]);
  else {
    for (const [label, check] of [["Network", s.layers.network], ["Filesystem", s.layers.filesystem], ["Process", s.layers.process]] as const) {
      fields.push([label, `${check.ok ? "OK" : "NOT IN FORCE"}, ${check.detail}`]);
    }
  }
  const p = s.policy;
  fields.push(["Policy", `${p.revision === null ? "no policy file" : `revision ${p.revision}, changed ${p.changedAt}`}${p.presets.length ? `; presets ${p.presets.join(", ")}` : ""}`]);
  fields.push(["Inference", s.inference === null ? `no route (set one: openclaw nemoclaw ${s.name} inference set --provider … --model …)` : `${s.inference.provider} / ${s.inference.model}`]);
  fields.push(["Approvals pending", s.pendingApprovals === 0 ? "none" : `${s.pendingApprovals} (openclaw nemoclaw ${s.name} approvals)`]);
  if (s.gateway !== null) fields.push(["Gateway", s.gateway]);
  return fields;
}

export function renderOverview(r: OverviewResult): string {
  const d = r.daemon;
  const head = renderFields(`nemoclaw: ${r.sandboxes.length} sandbox${r.sandboxes.length === 1 ? "" : "es"}`, [
    ["Daemon", d.running ? `running (pid ${d.pid}, ${d.version}, since ${d.startedAt})` : "not running (egress of every sandbox is closed; `<name> start` starts it)"],
    ["Disk", r.disk === null ? "unknown (the engine did not answer in time)" : `images ${r.disk.images.count} (${bytes(r.disk.images.bytes)}), /sandbox volumes ${r.disk.volumes.count} (${bytes(r.disk.volumes.bytes)})`],
  ]);
  const blocks = r.sandboxes.map((s) => renderFields(`Sandbox ${s.name}: ${s.state}`, sandboxFields(s)));
  const next = r.sandboxes.length === 0 ? ["Next: openclaw nemoclaw onboard (or sandbox create <name>)"] : [];
  return [head, ...blocks, ...next].join("\n\n");
}

export async function overviewStatus(config: ResolvedConfig, opts: { json?: boolean }): Promise<void> {
  const r = await runBlueprint({ command: "overview", ...target(config) }, (p) => p.OverviewResultSchema);
  if (opts.json) printJson(r);
  else process.stdout.write(`${renderOverview(r)}\n`);
  if (r.sandboxes.some(layersFailing)) process.exitCode = LAYER_NOT_IN_FORCE_EXIT;
}
