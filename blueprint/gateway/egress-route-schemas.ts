// The egress control routes' request and response schemas, apart from their handlers
// (egress-routes.ts): the plugin imports these through protocol.ts to check what the daemon
// answers, and must not load the policy engine, the YAML parser or the gateway to do so.
import { z } from "zod";
import { SandboxNameSchema } from "../state/sandbox-name.js";
import { STATIC_SECTIONS } from "../policy/diff.js";
import { cidrProblem } from "../policy/schema.js";
import { ApprovalSchema, DecidedApprovalSchema } from "./approvals.js";

const SandboxName = SandboxNameSchema;
const PolicyIssueSchema = z.object({ file: z.string(), line: z.number(), column: z.number(), field: z.string(), message: z.string() });
/** A policy that did not validate: every issue with its file:line:column. */
export const InvalidPolicyFailure = z.object({ ok: z.literal(false), error: z.literal("invalid-policy"), issues: z.array(PolicyIssueSchema), message: z.string() });
const RecreateNeeded = z.object({ ok: z.literal(false), error: z.literal("recreate-needed"), sections: z.array(z.enum(STATIC_SECTIONS)), message: z.string() });
export const EgressFailure = z.object({ ok: z.literal(false), error: z.enum(["not-found", "conflict", "bad-request"]), message: z.string() });
const Changes = z.object({ static: z.array(z.string()), dynamic: z.array(z.string()), recreateNeeded: z.boolean() });

export const ApprovalsListRequest = z.strictObject({ sandbox: SandboxName.optional() });
/** `decided`: the latest decisions, kept across daemon restarts (approval-history.ts); absent when no history is kept. */
export const ApprovalsListResponse = z.object({ approvals: z.array(ApprovalSchema), decided: z.array(DecidedApprovalSchema).optional() });

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
export const ApprovalsDecideResponse = z.union([z.object({ ok: z.literal(true), approval: ApprovalSchema }), EgressFailure]);

export const PolicyGetRequest = z.strictObject({ sandbox: SandboxName, full: z.boolean().default(false) });
export const PolicyGetResponse = z.union([z.object({ ok: z.literal(true), yaml: z.string(), policy: z.unknown(), binaryScoping: z.string() }), EgressFailure]);

export const PolicySetRequest = z.strictObject({
  sandbox: SandboxName,
  /** Policy YAML. Static sections it leaves out are kept as they are. */
  yaml: z.string().max(4 * 1024 * 1024),
  /** File name for error locations. */
  file: z.string().optional(),
});
export const PolicySetResponse = z.union([
  z.object({ ok: z.literal(true), changes: Changes, closed: z.number().int(), warnings: z.array(z.string()) }),
  InvalidPolicyFailure,
  RecreateNeeded,
  EgressFailure,
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
  InvalidPolicyFailure,
  EgressFailure,
]);

export const PolicyAddPresetRequest = z.strictObject({ sandbox: SandboxName, preset: z.string().min(1) });
export const PolicyAddPresetResponse = z.union([
  z.object({ ok: z.literal(true), added: z.array(z.string()), changes: Changes, closed: z.number().int() }),
  InvalidPolicyFailure,
  EgressFailure,
]);

export const ApprovalEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("pending"), approval: ApprovalSchema }),
  z.object({ type: z.literal("decided"), approval: ApprovalSchema, outcome: z.string() }),
]);
/** `approvals --watch`: the long poll's answer, the approval events since the call (maybe none). */
export const ApprovalsWaitResponse = z.object({ ok: z.literal(true), events: z.array(ApprovalEventSchema) });

export const EgressLogsRequest = z.strictObject({ sandbox: SandboxName, limit: z.number().int().positive().max(100_000).default(200), json: z.boolean().default(false) });
export const EgressLogsResponse = z.union([z.object({ ok: z.literal(true), lines: z.array(z.string()) }), EgressFailure]);
