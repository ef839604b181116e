// Method-override headers: many frameworks (Rails, Express's method-override, Laravel, Google
// and Microsoft APIs) serve `POST` + `X-HTTP-Method-Override: DELETE` as a DELETE. A rule that
// allows POST would then let a DELETE through. We keep the headers (clients that need them for
// PATCH through POST-only middleboxes keep working) and evaluate the L7 rules on the wire method
// and on every method the headers ask for: the request passes only if all of them are allowed.

import type http from "node:http";
import { evaluate } from "./policy-engine.js";
import type { Candidate, Decision } from "./policy-engine.js";

export const METHOD_OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"] as const;

export interface RequestToCheck {
  method: string;
  /** Origin-form target, as received. */
  target: string;
  /** Methods asked for by override headers (upper-cased, as `header: METHOD`). */
  overrides: Array<{ header: string; method: string }>;
}

/** The methods the request's override headers ask for, every value of every such header. */
export function methodOverrides(headers: http.IncomingHttpHeaders): RequestToCheck["overrides"] {
  const out: RequestToCheck["overrides"] = [];
  for (const header of METHOD_OVERRIDE_HEADERS) {
    const value = headers[header];
    if (value === undefined) continue;
    for (const part of (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(","))) {
      const method = part.trim().toUpperCase();
      if (method !== "") out.push({ header, method });
    }
  }
  return out;
}

/** L7 decision over the wire method and each overridden one; the first refusal wins. */
export function evaluateRequest(candidates: readonly Candidate[], request: RequestToCheck): Decision {
  const wire = evaluate(candidates, { method: request.method, target: request.target });
  if (wire.action !== "allow" || !wire.inspect) return wire;
  let audit = wire.audit;
  for (const { header, method } of request.overrides) {
    const overridden = evaluate(candidates, { method, target: request.target });
    if (overridden.action !== "allow") return { ...overridden, reason: `the request carries ${header}: ${method}; ${overridden.reason}` };
    audit ||= overridden.audit;
  }
  return { ...wire, audit };
}
