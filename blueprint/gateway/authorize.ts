// Authorization of a destination, and the approvals that decide unknown ones. Order: policy
// match on the name (host, port, calling binary) → unknown names held for approval → host-side
// resolution of allowed names only → hard blocks on the address we will actually connect to.
// L7 rules are evaluated by the caller on the decision returned here (per request).

import { ApprovalQueue } from "./approvals.js";
import type { Approval, ApprovalDecision, ApprovalOutcome } from "./approvals.js";
import type { AuditInput } from "./audit.js";
import { internalAddress } from "./gateway-context.js";
import type { GatewayContext, ResolvedGatewayOptions } from "./gateway-context.js";
import { checkAddress, resolveHost } from "./hard-blocks.js";
import { evaluateRequest } from "./method-override.js";
import type { RequestToCheck } from "./method-override.js";
import { describeCaller, evaluate } from "./policy-engine.js";
import type { Candidate, Decision, RuleRef } from "./policy-engine.js";
import { denial, nextStep } from "./refusals.js";
import type { DenialBody } from "./refusals.js";
import type { SandboxState, Tracked } from "./sandbox-state.js";
import type { Policy } from "../policy/schema.js";

export interface Refusal {
  ok: false;
  status: number;
  body: DenialBody;
}

export interface Granted {
  ok: true;
  address: string;
  decision: Decision;
  /** Set when an allow-once approval (not the policy) let it through. */
  approvalId?: string;
}

/** Hard blocks, except for the runtime's own internal hosts at their configured address. */
export function addressAllowed(options: ResolvedGatewayOptions, host: string, address: string, allowedIps: readonly string[] | undefined): { allowed: boolean; reason: string } {
  const internal = internalAddress(options, host);
  if (internal !== undefined && internal === address) return { allowed: true, reason: `${host} is served by the runtime` };
  return checkAddress(address, allowedIps);
}

export class Authorizer {
  readonly approvals: ApprovalQueue;
  private readonly ctx: GatewayContext;
  /** allowedIps of allow-once decisions, read by the held requests as they wake. */
  private readonly onceIps = new Map<string, string[] | undefined>();
  /** Approvals whose allow-always is being applied: the policy change must not cancel them. */
  private readonly deciding = new Set<string>();

  constructor(ctx: GatewayContext) {
    this.ctx = ctx;
    this.approvals = new ApprovalQueue({ timeoutMs: ctx.options.approvalTimeoutMs, maxPendingPerSandbox: ctx.options.maxPendingApprovalsPerSandbox });
  }

  /**
   * Decides a pending approval. `allow-always` adds an endpoint+binary rule to the live policy
   * (through `setPolicy`) and persists it; `deny-always` records the destination so it is
   * refused without asking. `allowedIps` pins the approved rule to addresses (needed to reach
   * private or loopback ones).
   */
  async decide(
    id: string,
    decision: ApprovalDecision,
    options: { allowedIps?: string[] },
    setPolicy: (sandbox: string, policy: Policy) => void,
  ): Promise<Approval> {
    const approval = this.approvals.get(id);
    if (approval === undefined) throw new Error(`no pending approval ${id}; it may have been decided or timed out (openclaw nemoclaw approvals lists the pending ones)`);
    const state = this.ctx.sandbox(approval.sandbox);
    if (state === undefined) throw new Error(`no sandbox named ${approval.sandbox} is registered with the egress gateway`);
    // Settled in the same turn as the change it makes, so watchers, the audit log and the
    // answer all carry the operator's decision; the held requests wake after it is in force.
    let persisted: Promise<void> = Promise.resolve();
    if (decision === "allow-always") {
      if (approval.binary === null) throw new Error(`approval ${id} comes from an unidentified process; only allow-once is possible`);
      this.deciding.add(id);
      try {
        setPolicy(approval.sandbox, state.withApprovedRule(approval.host, approval.port, approval.binary, options.allowedIps));
      } finally {
        this.deciding.delete(id);
      }
      persisted = state.persistPolicy();
    } else if (decision === "deny-always") {
      persisted = state.addDenied({ host: approval.host, port: approval.port, binary: approval.binary });
    }
    this.onceIps.set(id, options.allowedIps);
    const settled = this.approvals.settle(id, decision);
    // Held requests read it as they wake, within this turn of the event loop.
    setTimeout(() => this.onceIps.delete(id), 0).unref();
    await persisted;
    if (settled === undefined) throw new Error(`approval ${id} was settled while the decision was applied`);
    return settled;
  }

  /** Held requests whose destination the (new) policy now decides are woken to decide again. */
  recheckHeld(sandbox: string, state: SandboxState): void {
    for (const approval of this.approvals.list(sandbox)) {
      if (this.deciding.has(approval.id)) continue;
      if (state.engine.match(approval.host, approval.port, approval.caller).action !== "ask") this.approvals.settle(approval.id, "cancelled");
    }
  }

  /** Name-level policy (holding unknown names for approval), then resolution and hard blocks. */
  async authorize(conn: Tracked, host: string, port: number, http?: RequestToCheck): Promise<Granted | Refusal> {
    const { options } = this.ctx;
    const refuse = (status: number, error: string, rule: RuleRef | null, reason: string, kind: "unknown" | "policy", decision: AuditInput["decision"] = "deny", approvalId?: string): Refusal => {
      this.ctx.record(conn, { decision, host, port, rule, reason, ...(http === undefined ? {} : { http: { method: http.method, target: http.target, scheme: "http" as const } }), ...(approvalId === undefined ? {} : { approvalId }) });
      return { ok: false, status, body: denial(error, host, port, rule, reason, nextStep(conn.sandbox, kind)) };
    };
    let candidates: Candidate[] | undefined;
    let approvalId: string | undefined;
    for (let attempt = 0; candidates === undefined; attempt++) {
      const state = this.ctx.sandbox(conn.sandbox);
      if (state === undefined) return refuse(403, "sandbox removed", null, "the sandbox is no longer registered", "policy");
      const matched = state.engine.match(host, port, conn.caller);
      if (matched.action === "allow") {
        candidates = matched.candidates;
        break;
      }
      if (matched.action === "deny") return refuse(403, "denied by policy", matched.rule, matched.reason, "policy");
      if (state.isDenied(host, port, conn.caller.exe)) return refuse(403, "denied by operator", null, `${host}:${port} was denied by the operator (deny-always)`, "unknown");
      if (state.options.unknown === "deny") return refuse(403, "not in policy", null, matched.reason, "unknown");
      if (conn.caller.exe === null) return refuse(403, "not in policy", null, `${matched.reason}; ${describeCaller(conn.caller)} cannot be approved`, "unknown");
      if (attempt >= 3) return refuse(403, "not in policy", null, matched.reason, "unknown");
      const held = this.approvals.hold(
        { sandbox: conn.sandbox, host, port, caller: conn.caller, ...(http === undefined ? {} : { request: { method: http.method, path: http.target.split("?")[0] ?? "/" } }) },
        (approval) => this.ctx.record(conn, { decision: "held", host, port, rule: null, reason: `${matched.reason}; held for approval ${approval.id}`, approvalId: approval.id }),
      );
      if (!held.held) {
        return refuse(403, "too many pending approvals", null, `${matched.reason}; ${held.pending} approvals are already pending for this sandbox, so no new one is opened`, "unknown");
      }
      approvalId = held.approval.id;
      const outcome: ApprovalOutcome = await held.outcome;
      if (outcome === "timeout") return refuse(403, "approval timed out", null, `approval ${approvalId} timed out after ${options.approvalTimeoutMs} ms`, "unknown", "timeout", approvalId);
      if (outcome === "deny" || outcome === "deny-always") return refuse(403, "denied by operator", null, `approval ${approvalId} was denied`, "unknown", "deny", approvalId);
      if (outcome === "allow-once") {
        const ips = this.onceIps.get(approvalId);
        candidates = [{ ref: { policy: `approval:${approvalId}`, endpoint: 0 }, endpoint: { host, port, ...(ips === undefined ? {} : { allowed_ips: ips }) }, binary: conn.caller.exe }];
        this.ctx.record(conn, { decision: "approved", host, port, rule: null, reason: `allowed once by approval ${approvalId}`, approvalId });
        break;
      }
      if (outcome === "allow-always") this.ctx.record(conn, { decision: "approved", host, port, rule: null, reason: `allowed always by approval ${approvalId}`, approvalId });
      // allow-always (the policy now has the rule), cancelled (policy changed): decide again.
    }
    const internal = internalAddress(options, host);
    let addresses: string[];
    try {
      addresses = internal !== undefined ? [internal] : await resolveHost(host, options.hostMap);
    } catch (e) {
      return refuse(502, "cannot resolve", candidates[0]?.ref ?? null, `${host} did not resolve on the host (${(e as NodeJS.ErrnoException).code ?? "error"})`, "policy");
    }
    let firstProblem: string | undefined;
    for (const address of addresses) {
      const passing = candidates.filter((c) => {
        const verdict = addressAllowed(options, host, address, c.endpoint.allowed_ips);
        firstProblem ??= verdict.allowed ? undefined : verdict.reason;
        return verdict.allowed;
      });
      if (passing.length > 0) {
        const decision = http === undefined ? evaluate(passing) : evaluateRequest(passing, http);
        return { ok: true, address, decision, ...(approvalId === undefined ? {} : { approvalId }) };
      }
    }
    return refuse(403, "blocked address", candidates[0]?.ref ?? null, firstProblem ?? `${host} resolved to no address`, "policy");
  }
}
