// The egress gateway's part of the control API, as transport-free routes: each is a zod
// schema for the request, one for the response, and a handler from one to the other. The
// daemon mounts them on its host-only socket (and checks who is calling); nothing here knows
// about HTTP. Requests are validated on arrival, responses are what the schemas say.

import { z } from "zod";
import { formatIssue, parsePolicy, PolicyError } from "../policy/load.js";
import type { PolicyIssue } from "../policy/load.js";
import { MergeConflictError, mergePresets } from "../policy/merge.js";
import { loadPreset } from "../policy/presets.js";
import { changedSections, sameNetworkPolicy, STATIC_SECTIONS } from "../policy/diff.js";
import type { Policy } from "../policy/schema.js";
import { serializePolicy } from "../policy/serialize.js";
import { visibleJson } from "../state/terminal-text.js";
import { readAuditEvents, renderAuditEvent } from "./audit.js";
import type { ApprovalHistory } from "./approval-history.js";
import type { EgressGateway } from "./egress-gateway.js";
import { RecreateNeededError } from "./sandbox-state.js";
import { BINARY_SCOPING } from "./policy-engine.js";
import {
  EgressFailure,
  InvalidPolicyFailure,
  ApprovalsListRequest,
  ApprovalsListResponse,
  ApprovalsDecideRequest,
  ApprovalsDecideResponse,
  PolicyGetRequest,
  PolicyGetResponse,
  PolicySetRequest,
  PolicySetResponse,
  PolicyDiffRequest,
  PolicyDiffResponse,
  PolicyAddPresetRequest,
  PolicyAddPresetResponse,
  EgressLogsRequest,
  EgressLogsResponse,
} from "./egress-route-schemas.js";

export * from "./egress-route-schemas.js";

export interface Route<Req extends z.ZodType, Res extends z.ZodType> {
  request: Req;
  response: Res;
  handle(request: z.output<Req>): Promise<z.output<Res>>;
}

export interface ControlRouteOptions {
  /** Where presets are looked up. Default: the shipped policies/presets. */
  presetsDir?: string;
  /** Decisions kept on disk: listed with the pending approvals. */
  history?: ApprovalHistory;
}

function invalid(error: PolicyError): z.output<typeof InvalidPolicyFailure> {
  return { ok: false, error: "invalid-policy", issues: error.issues, message: error.format() };
}

function notFound(sandbox: string): z.output<typeof EgressFailure> {
  return { ok: false, error: "not-found", message: `no sandbox named ${sandbox} is running (openclaw nemoclaw status lists them)` };
}

/** The document as given, with static sections it omits taken from the live policy. */
function completeFrom(live: Policy, given: Policy, text: string): Policy {
  const out: Record<string, unknown> = { ...given };
  for (const section of STATIC_SECTIONS) {
    if (given[section] === undefined && !new RegExp(`^${section}\\s*:`, "m").test(text)) out[section] = live[section];
  }
  return out as Policy;
}

function dynamicPart(policy: Policy): Policy {
  return {
    version: 1,
    network_policies: policy.network_policies ?? {},
    ...(policy.network_middlewares === undefined ? {} : { network_middlewares: policy.network_middlewares }),
  };
}

function diffNames(before: Policy, after: Policy): { added: string[]; removed: string[]; changed: string[] } {
  const a = before.network_policies ?? {};
  const b = after.network_policies ?? {};
  const added = Object.keys(b).filter((k) => !(k in a)).sort();
  const removed = Object.keys(a).filter((k) => !(k in b)).sort();
  const changed = Object.keys(b).filter((k) => k in a && !sameNetworkPolicy(k, a[k] ?? {}, b[k] ?? {})).sort();
  return { added, removed, changed };
}

/** Builds the gateway's control routes over a running gateway. */
export function controlRoutes(gateway: EgressGateway, options: ControlRouteOptions = {}) {
  const parse = (sandbox: string, yaml: string, file: string | undefined): Policy => completeFrom(gateway.getPolicy(sandbox), parsePolicy(yaml, { file: file ?? "<policy>" }).policy, yaml);

  const routes = {
    "approvals.list": {
      request: ApprovalsListRequest,
      response: ApprovalsListResponse,
      async handle(req) {
        const approvals = gateway.approvals.list(req.sandbox);
        return options.history === undefined ? { approvals } : { approvals, decided: await options.history.recent(req.sandbox) };
      },
    } satisfies Route<typeof ApprovalsListRequest, typeof ApprovalsListResponse>,

    "approvals.decide": {
      request: ApprovalsDecideRequest,
      response: ApprovalsDecideResponse,
      async handle(req) {
        const decision = req.decision === "approve" ? (req.always ? "allow-always" : "allow-once") : req.always ? "deny-always" : "deny";
        try {
          const approval = await gateway.decideApproval(req.id, decision, req.allowedIps === undefined ? {} : { allowedIps: req.allowedIps });
          return { ok: true as const, approval };
        } catch (e) {
          return { ok: false as const, error: "not-found" as const, message: (e as Error).message };
        }
      },
    } satisfies Route<typeof ApprovalsDecideRequest, typeof ApprovalsDecideResponse>,

    "policy.get": {
      request: PolicyGetRequest,
      response: PolicyGetResponse,
      async handle(req) {
        if (!gateway.hasSandbox(req.sandbox)) return notFound(req.sandbox);
        const live = gateway.getPolicy(req.sandbox);
        const shown = req.full ? live : dynamicPart(live);
        return { ok: true as const, yaml: serializePolicy(shown), policy: shown, binaryScoping: BINARY_SCOPING };
      },
    } satisfies Route<typeof PolicyGetRequest, typeof PolicyGetResponse>,

    "policy.set": {
      request: PolicySetRequest,
      response: PolicySetResponse,
      async handle(req) {
        if (!gateway.hasSandbox(req.sandbox)) return notFound(req.sandbox);
        let next: Policy;
        let warnings: PolicyIssue[];
        try {
          const loaded = parsePolicy(req.yaml, { file: req.file ?? "<policy>" });
          next = completeFrom(gateway.getPolicy(req.sandbox), loaded.policy, req.yaml);
          warnings = loaded.warnings;
        } catch (e) {
          if (e instanceof PolicyError) return invalid(e);
          throw e;
        }
        try {
          const result = await gateway.applyPolicy(req.sandbox, next);
          return { ok: true as const, changes: result.changes, closed: result.closed, warnings: warnings.map(formatIssue) };
        } catch (e) {
          if (e instanceof RecreateNeededError) return { ok: false as const, error: "recreate-needed" as const, sections: e.changes.static, message: e.message };
          throw e;
        }
      },
    } satisfies Route<typeof PolicySetRequest, typeof PolicySetResponse>,

    "policy.diff": {
      request: PolicyDiffRequest,
      response: PolicyDiffResponse,
      async handle(req) {
        if (!gateway.hasSandbox(req.sandbox)) return notFound(req.sandbox);
        let next: Policy;
        try {
          next = parse(req.sandbox, req.yaml, req.file);
        } catch (e) {
          if (e instanceof PolicyError) return invalid(e);
          throw e;
        }
        const live = gateway.getPolicy(req.sandbox);
        return { ok: true as const, ...diffNames(live, next), changes: changedSections(live, next) };
      },
    } satisfies Route<typeof PolicyDiffRequest, typeof PolicyDiffResponse>,

    "policy.addPreset": {
      request: PolicyAddPresetRequest,
      response: PolicyAddPresetResponse,
      async handle(req) {
        if (!gateway.hasSandbox(req.sandbox)) return notFound(req.sandbox);
        const live = gateway.getPolicy(req.sandbox);
        try {
          const preset = await (options.presetsDir === undefined ? loadPreset(req.preset) : loadPreset(req.preset, options.presetsDir));
          const merged = mergePresets({ source: "the live policy", policy: live }, [{ source: `preset ${preset.name}`, policy: preset.preset }]).policy;
          const result = await gateway.applyPolicy(req.sandbox, merged);
          return { ok: true as const, added: diffNames(live, merged).added, changes: result.changes, closed: result.closed };
        } catch (e) {
          if (e instanceof PolicyError) return invalid(e);
          if (e instanceof MergeConflictError) return { ok: false as const, error: "conflict" as const, message: e.message };
          throw e;
        }
      },
    } satisfies Route<typeof PolicyAddPresetRequest, typeof PolicyAddPresetResponse>,

    "logs.egress": {
      request: EgressLogsRequest,
      response: EgressLogsResponse,
      async handle(req) {
        if (!gateway.hasSandbox(req.sandbox)) return notFound(req.sandbox);
        const log = gateway.auditLog(req.sandbox);
        await log.flush();
        const events = (await readAuditEvents(log.file)).slice(-req.limit);
        return { ok: true as const, lines: events.map((e) => (req.json ? visibleJson(JSON.stringify(e)) : renderAuditEvent(e))) };
      },
    } satisfies Route<typeof EgressLogsRequest, typeof EgressLogsResponse>,
  };
  return routes;
}

export type ControlRoutes = ReturnType<typeof controlRoutes>;
export type ControlRouteName = keyof ControlRoutes;

/**
 * Validates `body` against the route's request schema, runs it, and validates the answer.
 * A request that does not parse gets `{ ok: false, error: "bad-request" }` with zod's message.
 */
export async function callRoute(routes: ControlRoutes, name: string, body: unknown): Promise<unknown> {
  if (!Object.hasOwn(routes, name)) return { ok: false, error: "not-found", message: `no control route ${name}` };
  const route = routes[name as ControlRouteName] as Route<z.ZodType, z.ZodType>;
  const parsed = route.request.safeParse(body);
  if (!parsed.success) return { ok: false, error: "bad-request", message: z.prettifyError(parsed.error) };
  return route.response.parse(await route.handle(parsed.data));
}
