// What `/nemoclaw status|policy|logs` show in a gateway sandbox's chat, made on the host: the
// inference route, the egress policy in force, the pending approvals and the last denials, each
// rendered in the house style and short enough for one chat message. The host daemon pushes it
// into the sandboxed gateway's memory (chat-status-feed.ts); the chat command adds the layers it
// reads from its own process inside. Nothing here comes from inside the sandbox but the audit
// log's paths, hosts and reasons, which are made terminal-safe.
import { open } from "node:fs/promises";
import path from "node:path";
import { OcsfEventSchema, type OcsfEvent } from "../gateway/audit.js";
import type { EgressGateway } from "../gateway/egress-gateway.js";
import { nextStep } from "../gateway/refusals.js";
import type { Route } from "../inference/route.js";
import type { Policy } from "../policy/schema.js";
import { visible } from "../state/terminal-text.js";
import type { ChatSnapshot } from "../supervisor/tool-backend/chat-snapshot-message.js";

const MAX_POLICIES = 12;
const MAX_DENIALS = 5;
const MAX_PENDING = 5;
/** How much of the audit log's end is read per snapshot: it is rebuilt on every write, and a log grows to 10 MB. */
const AUDIT_TAIL_BYTES = 512 * 1024;

/** The events in the last `bytes` of the audit log (the first, partial line dropped). */
export async function recentAuditEvents(file: string, bytes = AUDIT_TAIL_BYTES): Promise<OcsfEvent[]> {
  const handle = await open(file, "r").catch(() => undefined);
  if (handle === undefined) return [];
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString("utf8").split("\n");
    if (start > 0) lines.shift();
    const events: OcsfEvent[] = [];
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        const parsed = OcsfEventSchema.safeParse(JSON.parse(line));
        if (parsed.success) events.push(parsed.data);
      } catch {
        // not JSON: skip it
      }
    }
    return events;
  } finally {
    await handle.close();
  }
}

export interface SnapshotSources {
  gateway: Pick<EgressGateway, "approvals" | "getPolicy" | "auditLog">;
  route: Route | undefined;
  /** The sandbox record's presets. */
  presets: readonly string[];
  /** The policy file's sha256 prefix (which revision is in force). */
  revision: string | null;
}

function program(file: string | null | undefined): string {
  return file === null || file === undefined ? "an unidentified program" : path.basename(file);
}

function ports(ep: { port?: number | undefined; ports?: number[] | undefined }): string {
  return ep.ports !== undefined ? ep.ports.join(",") : String(ep.port ?? "?");
}

/** One line per network policy: its destinations and who may use them. */
export function renderPolicy(sandbox: string, policy: Policy, revision: string | null, presets: readonly string[]): string {
  const entries = Object.entries(policy.network_policies ?? {});
  const lines = [`Egress policy of ${sandbox}`, "", `  Revision: ${revision ?? "unknown"}`, `  Presets: ${presets.length > 0 ? presets.join(", ") : "none"}`, `  Mode: ${policy.egress_mode ?? "enforce"}; anything else is held for your approval`, ""];
  if (entries.length === 0) lines.push("  (no network policies: every destination is held for approval)");
  for (const [name, p] of entries.slice(0, MAX_POLICIES)) {
    const dest = (p.endpoints ?? []).map((ep) => `${ep.host ?? (ep.allowed_ips ?? []).join("|")}:${ports(ep)}${ep.access !== undefined ? ` (${ep.access})` : ep.rules !== undefined ? ` (${ep.rules.length} rule${ep.rules.length === 1 ? "" : "s"})` : ""}`);
    const who = (p.binaries ?? []).map((b) => path.basename(b.path));
    lines.push(`  ${name}: ${dest.join(", ") || "no endpoints"}${who.length > 0 ? ` — ${who.join(", ")}` : " — any program"}`);
  }
  if (entries.length > MAX_POLICIES) lines.push(`  … ${entries.length - MAX_POLICIES} more`);
  lines.push("", `Full policy on the host: openclaw nemoclaw ${sandbox} policy get`);
  return lines.map(visible).join("\n");
}

function isDenial(e: OcsfEvent): boolean {
  return e.unmapped.decision === "deny" || e.unmapped.decision === "timeout";
}

/** The last denials, newest first, each with its rule and the next step. */
export function renderDenials(sandbox: string, events: readonly OcsfEvent[]): string {
  const denials = events.filter(isDenial).slice(-MAX_DENIALS).reverse();
  const lines = [`Last egress denials in ${sandbox}`, ""];
  if (denials.length === 0) lines.push("  None recorded.");
  for (const e of denials) {
    const request = e.http_request === undefined ? "" : ` ${e.http_request.http_method} ${String(e.http_request.url.path)}`;
    const rule = e.unmapped.policy === null ? "no policy names it" : `${e.unmapped.policy}#${e.unmapped.endpoint ?? "-"}`;
    lines.push(
      `  ${new Date(e.time).toISOString().slice(11, 19)} ${program(e.actor.process.file.path)} → ${e.dst_endpoint.hostname}:${e.dst_endpoint.port}${request}`,
      `      Rule: ${rule}`,
      `      Reason: ${e.message}`,
      `      Next: ${nextStep(sandbox, e.unmapped.policy === null ? "unknown" : "policy")}`,
    );
  }
  lines.push("", `All of it on the host: openclaw nemoclaw ${sandbox} logs --egress`);
  return lines.map(visible).join("\n");
}

export async function buildSnapshot(sandbox: string, sources: SnapshotSources, now: Date = new Date()): Promise<ChatSnapshot> {
  const { gateway, route } = sources;
  const policy = gateway.getPolicy(sandbox);
  const log = gateway.auditLog(sandbox);
  await log.flush();
  const events = await recentAuditEvents(log.file);
  const pending = gateway.approvals.list(sandbox);
  const denials = events.filter(isDenial);
  const last = denials.at(-1);
  const status = [
    `  Sandbox: ${sandbox}`,
    `  Inference: ${route === undefined ? "no route (openclaw nemoclaw inference set)" : `${route.provider} / ${route.model}`}`,
    `  Egress: only through the host's policy (${Object.keys(policy.network_policies ?? {}).length} network policies, revision ${sources.revision ?? "unknown"}, presets ${sources.presets.length > 0 ? sources.presets.join(", ") : "none"})`,
    `  Pending approvals: ${pending.length}`,
    ...pending.slice(0, MAX_PENDING).map((a) => `    ${a.id}  ${program(a.binary)} → ${a.host}:${a.port}${a.request === null ? "" : ` ${a.request.method} ${a.request.path}`}`),
    ...(pending.length > MAX_PENDING ? [`    … ${pending.length - MAX_PENDING} more (/nemoclaw approvals)`] : []),
    `  Recent denials: ${denials.length}${last === undefined ? "" : `, last ${last.dst_endpoint.hostname}:${last.dst_endpoint.port} (/nemoclaw logs)`}`,
  ];
  return {
    version: 1,
    sandbox,
    at: now.toISOString(),
    status: status.map(visible),
    policy: renderPolicy(sandbox, policy, sources.revision, sources.presets),
    logs: renderDenials(sandbox, events),
  };
}
