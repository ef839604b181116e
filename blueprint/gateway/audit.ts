// The egress audit log: one JSON line per decision, shaped as OCSF events — Network Activity
// (class 4001) for connections and tunnels, HTTP Activity (class 4002) for requests the proxy
// read — so log tooling that speaks OCSF can ingest it unchanged. Files rotate by size.
// `renderAuditEvent` prints the same event for people, in OpenShell's one-line style.

import { z } from "zod";
import type { Caller } from "./caller.js";
import type { RuleRef } from "./policy-engine.js";
import { visible } from "../state/terminal-text.js";
import { JsonlLog, readJsonl, type RotationOptions } from "../state/jsonl-log.js";

/** What happened, in nemoclaw's words (kept in `unmapped.decision`). */
export type AuditDecision = "allow" | "deny" | "held" | "approved" | "timeout" | "close";

export interface AuditInput {
  sandbox: string;
  decision: AuditDecision;
  caller: Caller;
  host: string;
  port: number;
  address?: string;
  rule: RuleRef | null;
  reason: string;
  /** Present for HTTP Activity events. */
  http?: { method: string; target: string; scheme: "http" | "https"; status?: number };
  /** Tunnel or request byte counts: up = sandbox → destination. */
  bytesUp?: number;
  bytesDown?: number;
  durationMs?: number;
  /** Allowed only because enforcement is audit. */
  auditOnly?: boolean;
  approvalId?: string;
  /** Observe mode: refused whatever the policy says; whether the policy would have allowed it. */
  observed?: "allowed" | "denied";
}

const HTTP_ACTIVITY: Record<string, [number, string]> = {
  CONNECT: [1, "Connect"], DELETE: [2, "Delete"], GET: [3, "Get"], HEAD: [4, "Head"], OPTIONS: [5, "Options"],
  POST: [6, "Post"], PUT: [7, "Put"], TRACE: [8, "Trace"], PATCH: [9, "Patch"],
};

export const OcsfEventSchema = z.looseObject({
  time: z.number(),
  class_uid: z.union([z.literal(4001), z.literal(4002)]),
  class_name: z.enum(["Network Activity", "HTTP Activity"]),
  category_uid: z.literal(4),
  category_name: z.literal("Network Activity"),
  activity_id: z.number().int(),
  activity_name: z.string(),
  type_uid: z.number().int(),
  severity_id: z.number().int(),
  severity: z.string(),
  status_id: z.number().int(),
  status: z.string(),
  action_id: z.number().int(),
  action: z.string(),
  disposition_id: z.number().int(),
  disposition: z.string(),
  message: z.string(),
  dst_endpoint: z.looseObject({ hostname: z.string(), port: z.number(), ip: z.string().optional() }),
  actor: z.looseObject({
    process: z.looseObject({ pid: z.number().nullable(), file: z.looseObject({ path: z.string().nullable() }), lineage: z.array(z.string()) }),
  }),
  http_request: z.looseObject({ http_method: z.string(), url: z.looseObject({ path: z.string() }) }).optional(),
  traffic: z.looseObject({ bytes_out: z.number(), bytes_in: z.number() }).optional(),
  duration: z.number().optional(),
  firewall_rule: z.looseObject({ name: z.string(), uid: z.string() }).optional(),
  metadata: z.looseObject({ version: z.string(), product: z.looseObject({ name: z.string() }) }),
  unmapped: z.looseObject({
    sandbox: z.string(),
    decision: z.enum(["allow", "deny", "held", "approved", "timeout", "close"]),
    policy: z.string().nullable(),
    endpoint: z.number().nullable(),
    audit_only: z.boolean().optional(),
    approval_id: z.string().optional(),
    observed: z.enum(["allowed", "denied"]).optional(),
  }),
});
export type OcsfEvent = z.infer<typeof OcsfEventSchema>;

/** Builds the OCSF event for one decision. */
export function toOcsf(input: AuditInput, time: number = Date.now()): OcsfEvent {
  const allowed = input.decision === "allow" || input.decision === "approved" || input.decision === "close";
  const pending = input.decision === "held";
  const isHttp = input.http !== undefined;
  let activityId: number;
  let activityName: string;
  if (isHttp) {
    [activityId, activityName] = HTTP_ACTIVITY[input.http?.method ?? ""] ?? [99, "Other"];
  } else if (input.decision === "close") {
    [activityId, activityName] = [2, "Close"];
  } else if (allowed) {
    [activityId, activityName] = [1, "Open"];
  } else if (pending) {
    [activityId, activityName] = [99, "Other"];
  } else {
    [activityId, activityName] = [5, "Refuse"];
  }
  const classUid = isHttp ? 4002 : 4001;
  const denied = !allowed && !pending;
  return {
    time,
    class_uid: classUid,
    class_name: isHttp ? "HTTP Activity" : "Network Activity",
    category_uid: 4,
    category_name: "Network Activity",
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    severity_id: denied ? 3 : input.auditOnly === true ? 2 : 1,
    severity: denied ? "Medium" : input.auditOnly === true ? "Low" : "Informational",
    status_id: denied ? 2 : pending ? 0 : 1,
    status: denied ? "Failure" : pending ? "Unknown" : "Success",
    action_id: denied ? 2 : pending ? 0 : 1,
    action: denied ? "Denied" : pending ? "Unknown" : "Allowed",
    disposition_id: denied ? 2 : pending ? 0 : 1,
    disposition: denied ? "Blocked" : pending ? "Unknown" : "Allowed",
    message: input.reason,
    dst_endpoint: { hostname: input.host, port: input.port, ...(input.address === undefined ? {} : { ip: input.address }) },
    actor: {
      process: {
        pid: input.caller.pid,
        file: { path: input.caller.exe, ...(input.caller.sha256 === null ? {} : { hashes: [{ algorithm_id: 3, algorithm: "SHA-256", value: input.caller.sha256 }] }) },
        lineage: [...input.caller.ancestors],
      },
    },
    ...(input.http === undefined
      ? {}
      : {
          http_request: {
            http_method: input.http.method,
            url: {
              scheme: input.http.scheme,
              hostname: input.host,
              port: input.port,
              path: input.http.target.split("?")[0] ?? input.http.target,
              query_string: input.http.target.includes("?") ? input.http.target.slice(input.http.target.indexOf("?") + 1) : "",
            },
          },
          ...(input.http.status === undefined ? {} : { http_response: { code: input.http.status } }),
        }),
    ...(input.bytesUp === undefined && input.bytesDown === undefined ? {} : { traffic: { bytes_out: input.bytesUp ?? 0, bytes_in: input.bytesDown ?? 0 } }),
    ...(input.durationMs === undefined ? {} : { duration: Math.round(input.durationMs) }),
    ...(input.rule === null ? {} : { firewall_rule: { name: input.rule.policy, uid: `${input.rule.policy}/endpoints/${input.rule.endpoint}` } }),
    metadata: { version: "1.3.0", product: { name: "nemoclaw", vendor_name: "nemoclaw", feature: { name: "egress-gateway" } } },
    unmapped: {
      sandbox: input.sandbox,
      decision: input.decision,
      policy: input.rule?.policy ?? null,
      endpoint: input.rule?.endpoint ?? null,
      ...(input.auditOnly === true ? { audit_only: true } : {}),
      ...(input.approvalId === undefined ? {} : { approval_id: input.approvalId }),
      ...(input.observed === undefined ? {} : { observed: input.observed }),
    },
  };
}

const LABELS: Record<AuditDecision, string> = {
  allow: "ALLOWED", deny: "DENIED", held: "HELD", approved: "APPROVED", timeout: "TIMEOUT", close: "CLOSED",
};

/**
 * One line for people: `DENIED /usr/bin/curl(64) -> evil.com:443 [policy:- rule:-] [reason:…]`.
 * Paths, hosts and reasons come from inside the sandbox: the line is made terminal-safe.
 */
export function renderAuditEvent(event: OcsfEvent): string {
  const u = event.unmapped;
  let label = LABELS[u.decision];
  if (u.audit_only === true) label = "AUDIT";
  if (u.observed !== undefined) label = `OBSERVED(${u.observed === "allowed" ? "policy-allows" : "policy-denies"})`;
  const proc = event.actor.process;
  const who = `${proc.file.path ?? "?"}(${proc.pid ?? "?"})`;
  const dest = `${event.dst_endpoint.hostname}:${event.dst_endpoint.port}`;
  const request = event.http_request === undefined ? "" : ` ${event.http_request.http_method} ${String(event.http_request.url.path)}`;
  const rule = `[policy:${u.policy ?? "-"} rule:${u.policy === null ? "-" : `${u.policy}#${u.endpoint ?? "-"}`}]`;
  const extra: string[] = [];
  if (event.traffic !== undefined) extra.push(`up:${event.traffic.bytes_out} down:${event.traffic.bytes_in}`);
  if (event.duration !== undefined) extra.push(`${event.duration}ms`);
  if (u.approval_id !== undefined) extra.push(`approval:${u.approval_id}`);
  const time = new Date(event.time).toISOString();
  return visible(`${time} ${label} ${who} -> ${dest}${request} ${rule} [reason:${event.message}]${extra.length > 0 ? ` [${extra.join(" ")}]` : ""}`);
}

export type AuditLogOptions = RotationOptions;

/**
 * The egress audit log: OCSF events as JSON lines, rotated by size (state/jsonl-log.ts). Every
 * request writes an event; under load a write per event-loop turn cost more than the request's
 * own policy work, so events gather for 10 ms first. flush() and close() write them at once.
 */
export class AuditLog extends JsonlLog {
  constructor(file: string, options: AuditLogOptions = {}) {
    super(file, { ...options, batchMs: 10 });
  }

  write(input: AuditInput): void {
    this.append(toOcsf(input));
  }
}

/** Reads events back (oldest rotated file first); lines that do not parse are skipped. */
export function readAuditEvents(file: string, keep = 5): Promise<OcsfEvent[]> {
  return readJsonl(file, OcsfEventSchema, keep);
}
