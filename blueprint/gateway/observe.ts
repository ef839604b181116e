// Observe mode (`egress_mode: observe`, `skill test`): nothing leaves and nothing is held. Each
// attempt is refused at once and recorded with what the sandbox tried — caller, host:port, and
// for HTTP the method and path (every CONNECT is TLS-terminated with the sandbox CA so the
// requests inside can be read) — marked with whether the network policies would have allowed it.
// Names the runtime answers in-process (inference.local) are still served when the policies allow
// them: the model a skill is tested with must keep working, and nothing leaves through them.
//
// What the sandbox is told is what enforce mode would tell it, so a skill cannot see that it is
// watched: a destination no policy names gets enforce mode's immediate "not in policy" refusal
// (the `unknown: deny` one), a binary or request the policy refuses gets "denied by policy", and a
// request the policy would let out gets the answer of a host that does not resolve. "observed"
// is said only on the host side: in the audit record's reason and its `observed` field.

import type { GatewayContext } from "./gateway-context.js";
import { internalAddress } from "./gateway-context.js";
import { evaluateRequest } from "./method-override.js";
import type { RequestToCheck } from "./method-override.js";
import { evaluate } from "./policy-engine.js";
import type { RuleRef } from "./policy-engine.js";
import { denial, nextStep } from "./refusals.js";
import type { DenialBody } from "./refusals.js";
import type { Tracked } from "./sandbox-state.js";

/** The address recorded for a tunnel terminated only to observe it: never connected to. */
export const OBSERVED_ADDRESS = "observed";

/** True when this request is observed rather than authorized: observe mode, and not an allowed in-process name. */
export function observes(ctx: GatewayContext, conn: Tracked, host: string, port: number): boolean {
  const state = ctx.sandbox(conn.sandbox);
  if (state === undefined || state.policy.egress_mode !== "observe") return false;
  if (internalAddress(ctx.options, host) === undefined) return true;
  return state.engine.match(host, port, conn.caller).action !== "allow";
}

/** Records one observed attempt (a CONNECT without `http`, a request with it) and returns the refusal to send: enforce mode's. */
export function observe(ctx: GatewayContext, conn: Tracked, host: string, port: number, http?: RequestToCheck & { scheme: "http" | "https" }): { status: number; body: DenialBody } {
  const state = ctx.sandbox(conn.sandbox);
  let wouldAllow = false;
  let rule: RuleRef | null = null;
  let why = "the sandbox is no longer registered";
  let told: { status: number; body: DenialBody } = { status: 403, body: denial("sandbox removed", host, port, null, why, nextStep(conn.sandbox, "policy")) };
  if (state !== undefined) {
    const matched = state.engine.match(host, port, conn.caller);
    why = matched.reason;
    if (matched.action === "allow") {
      const decision = http === undefined ? evaluate(matched.candidates) : evaluateRequest(matched.candidates, http);
      wouldAllow = decision.action === "allow";
      rule = decision.rule;
      why = decision.reason;
      told = wouldAllow
        ? { status: 502, body: denial("cannot resolve", host, port, rule, `${host} did not resolve on the host (ENOTFOUND)`, nextStep(conn.sandbox, "policy")) }
        : { status: 403, body: denial("denied by policy", host, port, rule, why, nextStep(conn.sandbox, "policy")) };
    } else if (matched.action === "deny") {
      rule = matched.rule;
      told = { status: 403, body: denial("denied by policy", host, port, rule, why, nextStep(conn.sandbox, "policy")) };
    } else {
      told = { status: 403, body: denial("not in policy", host, port, null, why, nextStep(conn.sandbox, "unknown")) };
    }
  }
  ctx.record(conn, {
    decision: "deny",
    host,
    port,
    ...(http === undefined ? { address: OBSERVED_ADDRESS } : { http: { method: http.method, target: http.target, scheme: http.scheme } }),
    rule: wouldAllow ? rule : null,
    reason: `observed, nothing leaves: the policy would ${wouldAllow ? "allow" : "refuse"} it (${why})`,
    observed: wouldAllow ? "allowed" : "denied",
  });
  return told;
}
