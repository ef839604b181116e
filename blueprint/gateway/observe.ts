// Observe mode (`egress_mode: observe`, `skill test`): nothing leaves and nothing is held. Each
// attempt is refused at once and recorded with what the sandbox tried — caller, host:port, and
// for HTTP the method and path (every CONNECT is TLS-terminated with the sandbox CA so the
// requests inside can be read) — marked with whether the network policies would have allowed it.
// Names the runtime answers in-process (inference.local) are still served when the policies allow
// them: the model a skill is tested with must keep working, and nothing leaves through them.

import type { GatewayContext } from "./gateway-context.js";
import { internalAddress } from "./gateway-context.js";
import { evaluateRequest } from "./method-override.js";
import type { RequestToCheck } from "./method-override.js";
import { evaluate } from "./policy-engine.js";
import type { RuleRef } from "./policy-engine.js";
import { denial } from "./refusals.js";
import type { DenialBody } from "./refusals.js";
import type { Tracked } from "./sandbox-state.js";

/** The address recorded for a tunnel terminated only to observe it: never connected to. */
export const OBSERVED_ADDRESS = "observed";

const NEXT = "nothing leaves this sandbox: it observes (egress_mode: observe); the attempt is in the audit log";

/** True when this request is observed rather than authorized: observe mode, and not an allowed in-process name. */
export function observes(ctx: GatewayContext, conn: Tracked, host: string, port: number): boolean {
  const state = ctx.sandbox(conn.sandbox);
  if (state === undefined || state.policy.egress_mode !== "observe") return false;
  if (internalAddress(ctx.options, host) === undefined) return true;
  return state.engine.match(host, port, conn.caller).action !== "allow";
}

/** Records one observed attempt (a CONNECT without `http`, a request with it) and returns the refusal to send. */
export function observe(ctx: GatewayContext, conn: Tracked, host: string, port: number, http?: RequestToCheck & { scheme: "http" | "https" }): DenialBody {
  const state = ctx.sandbox(conn.sandbox);
  let wouldAllow = false;
  let rule: RuleRef | null = null;
  let why = "the sandbox is no longer registered";
  if (state !== undefined) {
    const matched = state.engine.match(host, port, conn.caller);
    why = matched.reason;
    if (matched.action === "allow") {
      const decision = http === undefined ? evaluate(matched.candidates) : evaluateRequest(matched.candidates, http);
      wouldAllow = decision.action === "allow";
      rule = wouldAllow ? decision.rule : null;
      why = decision.reason;
    }
  }
  const reason = `observed, nothing leaves: the policy would ${wouldAllow ? "allow" : "refuse"} it (${why})`;
  ctx.record(conn, {
    decision: "deny",
    host,
    port,
    ...(http === undefined ? { address: OBSERVED_ADDRESS } : { http: { method: http.method, target: http.target, scheme: http.scheme } }),
    rule,
    reason,
    observed: wouldAllow ? "allowed" : "denied",
  });
  return denial("observed", host, port, rule, reason, NEXT);
}
