// The egress gateway's part of the control API, as transport-free routes: each is a zod
// schema for the request, one for the response, and a handler from one to the other. The
// daemon mounts them on its host-only socket (and checks who is calling); nothing here knows
// about HTTP. Requests are validated on arrival, responses are what the schemas say.

import { z } from "zod";
import { SandboxNameSchema } from "../state/sandbox-name.js";
import { formatIssue, parsePolicy, PolicyError } from "../policy/load.js";
import type { PolicyIssue } from "../policy/load.js";
import { MergeConflictError, mergePresets } from "../policy/merge.js";
import { loadPreset } from "../policy/presets.js";
import { cidrProblem } from "../policy/schema.js";
import { changedSections, sameNetworkPolicy, STATIC_SECTIONS } from "../policy/diff.js";
import type { Policy } from "../policy/schema.js";
import { serializePolicy } from "../policy/serialize.js";
import { visibleJson } from "../state/terminal-text.js";
import { ApprovalSchema } from "./approvals.js";
import { readAuditEvents, renderAuditEvent } from "./audit.js";
import type { EgressGateway } from "./egress-gateway.js";
import { RecreateNeededError } from "./sandbox-state.js";
import { BINARY_SCOPING } from "./policy-engine.js";

const SandboxName = SandboxNameSchema;
const PolicyIssueSchema = z.object({ file: z.string(), line: z.number(), column: z.number(), field: z.string(), message: z.string() });
const Invalid = z.object({ ok: z.literal(false), error: z.literal("invalid-policy"), issues: z.array(PolicyIssueSchema), message: z.string() });
const RecreateNeeded = z.object({ ok: z.literal(false), error: z.literal("recreate-needed"), sections: z.array(z.enum(STATIC_SECTIONS)), message: z.string() });
const Failure = z.object({ ok: z.literal(false), error: z.enum(["not-found", "conflict", "bad-request"]), message: z.string() });
const Changes = z.object({ static: z.array(z.string()), dynamic: z.array(z.string()), recreateNeeded: z.boolean() });

export const ApprovalsListRequest = z.strictObject({ sandbox: SandboxName.optional() });
export const ApprovalsListResponse = z.object({ approvals: z.array(ApprovalSchema) });

export const ApprovalsDecideRequest = z.strictObject({
  id: z.string().min(1),
  decision: z.enum(["approve", "deny"]),
  /** approve → allow-always (rule added and persisted); deny → deny-always (never asked again). */
  always: z.boolean().default(false),
  /** Pin the approved rule to these addresses (needed for private or loopback destinations). */
  allowedIps: z
    .array(z.string().superRefine((entry, ctx) => {
      const problem = cidrProblem(entry);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }))
    .min(1)
    .optional(),
});
export const ApprovalsDecideResponse = z.union([z.object({ ok: z.literal(true), approval: ApprovalSchema }), Failure]);

export const PolicyGetRequest = z.strictObject({ sandbox: SandboxName, full: z.boolean().default(false) });
export const PolicyGetResponse = z.union([z.object({ ok: z.literal(true), yaml: z.string(), policy: z.unknown(), binaryScoping: z.string() }), Failure]);

export const PolicySetRequest = z.strictObject({
  sandbox: SandboxName,
  /** Policy YAML. Static sections it leaves out are kept as they are. */
  yaml: z.string().max(4 * 1024 * 1024),
  /** File name for error locations. */
  file: z.string().optional(),
});
export const PolicySetResponse = z.union([
  z.object({ ok: z.literal(true), changes: Changes, closed: z.number().int(), warnings: z.array(z.string()) }),
  Invalid,
  RecreateNeeded,
  Failure,
]);

export const PolicyDiffRequest = PolicySetRequest;
export const PolicyDiffResponse = z.union([
  z.object({
    ok: z.literal(true),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
    changes: Changes,
  }),
  Invalid,
  Failure,
]);

export const PolicyAddPresetRequest = z.strictObject({ sandbox: SandboxName, preset: z.string().min(1) });
export const PolicyAddPresetResponse = z.union([
  z.object({ ok: z.literal(true), added: z.array(z.string()), changes: Changes, closed: z.number().int() }),
  Invalid,
  Failure,
]);

export const ApprovalEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("pending"), approval: ApprovalSchema }),
  z.object({ type: z.literal("decided"), approval: ApprovalSchema, outcome: z.string() }),
]);
/** `approvals --watch`: the long poll's answer, the approval events since the call (maybe none). */
export const ApprovalsWaitResponse = z.object({ ok: z.literal(true), events: z.array(ApprovalEventSchema) });

export const EgressLogsRequest = z.strictObject({ sandbox: SandboxName, limit: z.number().int().positive().max(100_000).default(200), json: z.boolean().default(false) });
export const EgressLogsResponse = z.union([z.object({ ok: z.literal(true), lines: z.array(z.string()) }), Failure]);

export interface Route<Req extends z.ZodType, Res extends z.ZodType> {
  request: Req;
  response: Res;
  handle(request: z.output<Req>): Promise<z.output<Res>>;
}

export interface ControlRouteOptions {
  /** Where presets are looked up. Default: the shipped policies/presets. */
  presetsDir?: string;
}

function invalid(error: PolicyError): z.output<typeof Invalid> {
  return { ok: false, error: "invalid-policy", issues: error.issues, message: error.format() };
}

function notFound(sandbox: string): z.output<typeof Failure> {
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
        return { approvals: gateway.approvals.list(req.sandbox) };
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
