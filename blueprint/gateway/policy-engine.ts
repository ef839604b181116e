// The policy engine: OpenShell semantics over a validated `Policy`. Pure and synchronous; the
// proxy asks it twice — once per connection (host, port, calling binary) and once per request
// on endpoints that inspect requests (`protocol: rest`: method, path, query).
//
// Fail closed: an endpoint carrying a field nemoclaw cannot enforce never matches, an allow
// rule with a matcher we cannot evaluate never matches, and a deny rule with one is applied
// without it (it denies more, never less).
//
// Binary scoping: `binaries` globs match the caller's executable — the one holding the
// connection, identified soundly by the forwarder and pinned by content (binary-pins.ts) — and
// nothing else. Ancestors are recorded and shown, never matched: a program started by an allowed
// binary is not that binary (OpenShell likewise names "the executable that opens the connection";
// its policy format has no ancestor opt-in). An unidentified caller matches no entry.

import { isIP } from "node:net";
import { ENFORCED_PROTOCOLS, endpointPorts } from "../policy/schema.js";
import { UNENFORCED_FIELDS } from "../policy/warnings.js";
import type { Endpoint, Policy, RequestMatcher } from "../policy/schema.js";
import type { Caller } from "./caller.js";
import { hostMatches, pathMatches, valueMatches } from "./globs.js";
import { addressInList, canonicalAddress } from "./hard-blocks.js";
import { parseRequestTarget } from "./request-path.js";
import type { RequestTarget } from "./request-path.js";

/** Which endpoint of which network policy a decision rests on. */
export interface RuleRef {
  policy: string;
  endpoint: number;
}

export type Action = "allow" | "deny" | "ask";

/** An endpoint that matched host, port and binary: what the connection may do. */
export interface Candidate {
  ref: RuleRef;
  endpoint: Endpoint;
  /** The caller's executable, which matched the policy's `binaries`. */
  binary: string;
}

export interface HttpRequestInfo {
  method: string;
  /** Origin-form request target: `/path?query`, exactly as received. */
  target: string;
}

export interface DecisionInput {
  host: string;
  port: number;
  caller: Caller;
  http?: HttpRequestInfo;
}

export interface Decision {
  action: Action;
  rule: RuleRef | null;
  reason: string;
  /** For a connection-level allow: every endpoint that may carry it (after hard blocks: those the address passes). */
  candidates: Candidate[];
  /** True when each request on the connection must be checked against L7 rules. */
  inspect: boolean;
  /** Allowed only because the endpoint's enforcement is `audit`: the rules would deny. */
  audit: boolean;
}

const READ_ONLY = new Set(["GET", "HEAD", "OPTIONS"]);
const READ_WRITE = new Set([...READ_ONLY, "POST", "PUT", "PATCH", "DELETE"]);

/** Lower-case, without a trailing dot or IPv6 brackets; undefined when it is not a host name or address. */
export function canonicalHost(host: string): string | undefined {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) return undefined;
  if (isIP(h) !== 0) return canonicalAddress(h);
  if (!/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/.test(h)) return undefined;
  if (h.split(".").some((label) => label.length > 63)) return undefined;
  return h;
}

function endpointHostMatches(endpoint: Endpoint, host: string): boolean {
  if (endpoint.host === undefined) {
    // Address-only endpoint: matches a literal address inside allowed_ips. Names never match,
    // so we never resolve a name the policy did not name.
    return isIP(host) !== 0 && addressInList(host, endpoint.allowed_ips ?? []);
  }
  if (isIP(endpoint.host) !== 0) return isIP(host) !== 0 && canonicalAddress(endpoint.host) === host;
  return hostMatches(endpoint.host, host);
}

/** Why this endpoint cannot be enforced as written, or undefined. */
function unenforceable(endpoint: Endpoint): string | undefined {
  for (const field of UNENFORCED_FIELDS.endpoint) {
    if (field === "allow_encoded_slash") continue; // enforced here, in request-path.ts
    if (endpoint[field] !== undefined) return `field ${field} is not enforced by nemoclaw`;
  }
  const protocol = endpoint.protocol;
  if (protocol !== undefined && !ENFORCED_PROTOCOLS.has(protocol)) {
    const opensEverything = endpoint.access === "full" && endpoint.rules === undefined && endpoint.deny_rules === undefined;
    if (!opensEverything) return `protocol ${protocol} request rules are not enforced by nemoclaw`;
  }
  if (endpoint.path !== undefined && protocol !== "rest") return "endpoint path needs protocol rest to be checked";
  return undefined;
}

/** True when requests on this endpoint are checked one by one (TLS terminated for HTTPS). */
export function inspects(endpoint: Endpoint): boolean {
  return endpoint.protocol === "rest";
}

function methodMatches(pattern: string | undefined, method: string): boolean {
  return pattern === undefined || pattern === "*" || pattern === method;
}

function queryMatches(matcher: RequestMatcher["query"], query: ReadonlyArray<[string, string]>): boolean {
  if (matcher === undefined) return true;
  for (const [key, glob] of Object.entries(matcher)) {
    const values = query.filter(([k]) => k === key).map(([, v]) => v);
    if (values.length === 0) return false;
    const globs = typeof glob === "string" ? [glob] : glob.any;
    // Every occurrence must match: a second `?key=` cannot smuggle another value past the rule.
    if (!values.every((value) => globs.some((g) => valueMatches(g, value)))) return false;
  }
  return true;
}

function hasUnenforcedMatcher(matcher: RequestMatcher): boolean {
  return UNENFORCED_FIELDS.matcher.some((field) => matcher[field] !== undefined);
}

interface L7Result {
  allowed: boolean;
  reason: string;
}

function evaluateL7(endpoint: Endpoint, method: string, target: RequestTarget): L7Result {
  if (endpoint.path !== undefined && !pathMatches(endpoint.path, target.path)) {
    return { allowed: false, reason: `path ${target.path} is outside the endpoint's path ${endpoint.path}` };
  }
  for (const [index, deny] of (endpoint.deny_rules ?? []).entries()) {
    // Deny rules match case-insensitively on the path: matching more is the safe side.
    if (
      methodMatches(deny.method, method) &&
      (deny.path === undefined || pathMatches(deny.path, target.path, true)) &&
      queryMatches(deny.query, target.query)
    ) {
      return { allowed: false, reason: `${method} ${target.path} matches deny_rules[${index}]` };
    }
  }
  if (endpoint.access !== undefined) {
    const ok = endpoint.access === "full" || (endpoint.access === "read-only" ? READ_ONLY : READ_WRITE).has(method);
    return ok ? { allowed: true, reason: `access ${endpoint.access} allows ${method}` } : { allowed: false, reason: `access ${endpoint.access} does not allow ${method}` };
  }
  for (const [index, rule] of (endpoint.rules ?? []).entries()) {
    const allow = rule.allow;
    if (hasUnenforcedMatcher(allow)) continue;
    if (methodMatches(allow.method, method) && allow.path !== undefined && pathMatches(allow.path, target.path) && queryMatches(allow.query, target.query)) {
      return { allowed: true, reason: `${method} ${target.path} matches rules[${index}]` };
    }
  }
  return { allowed: false, reason: `no rule allows ${method} ${target.path}` };
}

/** What `binaries` entries match, as `policy get` states it. */
export const BINARY_SCOPING =
  "the executable holding the connection (sha256-pinned on first use); ancestors are shown, not matched; unidentified callers match nothing";

export interface MatchResult {
  action: Action;
  rule: RuleRef | null;
  reason: string;
  candidates: Candidate[];
}

export function describeCaller(caller: Caller): string {
  if (caller.exe === null) return `an unidentified process${caller.unidentified === null ? "" : ` (${caller.unidentified})`}`;
  return caller.ancestors.length === 0 ? caller.exe : `${caller.exe} (started by ${caller.ancestors.join(" < ")}; ancestors are not matched)`;
}

/** One policy, compiled for lookups. Immutable: hot reload builds a new engine. */
export class PolicyEngine {
  readonly policy: Policy;
  /**
   * Allow results by executable, then `port/host`: asked on every request, and a function of
   * this (never mutated) policy and those three alone. A policy change builds a new engine, so
   * the next request is matched against the new policy. Refusals are not kept (their reasons
   * name the whole caller).
   */
  private readonly allowed = new Map<string | null, Map<string, MatchResult>>();
  private allowedCount = 0;

  constructor(policy: Policy) {
    this.policy = policy;
  }

  /** Connection-level match: which endpoints may carry traffic from `caller` to host:port. */
  match(rawHost: string, port: number, caller: Caller): MatchResult {
    const key = `${port}/${rawHost}`;
    const known = this.allowed.get(caller.exe)?.get(key);
    if (known !== undefined) return known;
    const result = this.matchUncached(rawHost, port, caller);
    if (result.action === "allow") {
      if (this.allowedCount >= 10_000) {
        this.allowed.clear();
        this.allowedCount = 0;
      }
      let byExe = this.allowed.get(caller.exe);
      if (byExe === undefined) this.allowed.set(caller.exe, (byExe = new Map()));
      byExe.set(key, result);
      this.allowedCount++;
    }
    return result;
  }

  private matchUncached(rawHost: string, port: number, caller: Caller): MatchResult {
    const host = canonicalHost(rawHost);
    if (host === undefined) return { action: "deny", rule: null, reason: `"${rawHost}" is not a valid host name`, candidates: [] };
    const hostMatched: Array<{ ref: RuleRef; endpoint: Endpoint; binaries: string[] }> = [];
    for (const [key, np] of Object.entries(this.policy.network_policies ?? {})) {
      (np.endpoints ?? []).forEach((endpoint, index) => {
        if (endpointPorts(endpoint).includes(port) && endpointHostMatches(endpoint, host)) {
          hostMatched.push({ ref: { policy: key, endpoint: index }, endpoint, binaries: (np.binaries ?? []).map((b) => b.path) });
        }
      });
    }
    if (hostMatched.length === 0) {
      return { action: "ask", rule: null, reason: `no network policy allows ${host}:${port}`, candidates: [] };
    }
    const binary = caller.exe;
    const candidates: Candidate[] = [];
    let unenforced: { ref: RuleRef; why: string } | undefined;
    for (const m of hostMatched) {
      if (binary === null || !m.binaries.some((glob) => pathMatches(glob, binary))) continue;
      const why = unenforceable(m.endpoint);
      if (why !== undefined) {
        unenforced ??= { ref: m.ref, why };
        continue;
      }
      candidates.push({ ref: m.ref, endpoint: m.endpoint, binary });
    }
    if (candidates.length > 0) {
      return { action: "allow", rule: candidates[0]?.ref ?? null, reason: `${host}:${port} allowed for ${candidates[0]?.binary}`, candidates };
    }
    if (unenforced !== undefined) {
      return { action: "deny", rule: unenforced.ref, reason: `${unenforced.why}; the endpoint fails closed`, candidates: [] };
    }
    const first = hostMatched[0];
    const who = describeCaller(caller);
    return {
      action: "deny",
      rule: first?.ref ?? null,
      reason: `${who} is not in the binaries of network policy ${[...new Set(hostMatched.map((m) => m.ref.policy))].join(", ")}`,
      candidates: [],
    };
  }

  /** Full decision: `match`, then (when `http` is given) the request rules. */
  decide(input: DecisionInput): Decision {
    const matched = this.match(input.host, input.port, input.caller);
    if (matched.action !== "allow") return { ...matched, inspect: false, audit: false };
    return evaluate(matched.candidates, input.http);
  }
}

/**
 * Decision over endpoints already matched (and, in the proxy, already filtered by hard blocks).
 * Without `http` it is the connection decision; with it, the request decision.
 */
export function evaluate(candidates: readonly Candidate[], http?: HttpRequestInfo): Decision {
  const first = candidates[0];
  if (first === undefined) return { action: "deny", rule: null, reason: "no endpoint allows this destination", candidates: [], inspect: false, audit: false };
  const open = candidates.find((c) => !inspects(c.endpoint));
  if (open !== undefined) {
    return { action: "allow", rule: open.ref, reason: `allowed by ${open.ref.policy} for ${open.binary}`, candidates: [...candidates], inspect: false, audit: false };
  }
  if (http === undefined) {
    return { action: "allow", rule: first.ref, reason: `allowed by ${first.ref.policy} for ${first.binary}; requests are checked`, candidates: [...candidates], inspect: true, audit: false };
  }
  let firstDenial: { ref: RuleRef; reason: string } | undefined;
  let auditAllow: { ref: RuleRef; reason: string } | undefined;
  for (const candidate of candidates) {
    const target = parseRequestTarget(http.target, { allowEncodedSlash: candidate.endpoint.allow_encoded_slash === true });
    const result: L7Result = target.ok ? evaluateL7(candidate.endpoint, http.method, target.target) : { allowed: false, reason: target.reason };
    if (result.allowed) {
      return { action: "allow", rule: candidate.ref, reason: result.reason, candidates: [...candidates], inspect: true, audit: false };
    }
    firstDenial ??= { ref: candidate.ref, reason: result.reason };
    // Unset enforcement means enforce: OpenShell defaults to audit, but a rule the operator wrote should
    // hold unless they opt out (the loader warns when it is unset). A target we refuse to read is an
    // attack on the matcher, not a rule violation: never audit-only.
    if (target.ok && (candidate.endpoint.enforcement ?? "enforce") === "audit") auditAllow ??= { ref: candidate.ref, reason: result.reason };
  }
  if (auditAllow !== undefined) {
    return { action: "allow", rule: auditAllow.ref, reason: `audit only: ${auditAllow.reason}`, candidates: [...candidates], inspect: true, audit: true };
  }
  return { action: "deny", rule: firstDenial?.ref ?? first.ref, reason: firstDenial?.reason ?? "denied", candidates: [...candidates], inspect: true, audit: false };
}
