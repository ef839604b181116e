// Valid policies that probably do not mean what their author thinks, and published fields
// nemoclaw parses and keeps but does not enforce yet.
import { ENFORCED_PROTOCOLS, isWithin, normalizeFsPath } from "./schema.js";
import type { FilesystemPolicy, Policy, Preset, RequestMatcher } from "./schema.js";

/** Published fields nemoclaw parses and keeps but does not enforce yet, by where they appear. */
export const UNENFORCED_FIELDS = {
  policy: ["network_middlewares"],
  endpoint: [
    "allow_encoded_slash", "credential_binding", "request_body_credential_rewrite",
    "websocket_credential_rewrite", "allow_uninspected_credentials", "credential_signing",
    "signing_service", "signing_region", "persisted_queries", "graphql_persisted_queries",
    "graphql_max_body_bytes", "mcp", "json_rpc",
  ],
  matcher: ["operation_type", "operation_name", "fields", "tool", "params"],
} as const;

export interface PathIssue {
  path: Array<string | number>;
  message: string;
}

const notEnforced = (field: string): string => `field "${field}" is not enforced by nemoclaw yet; it is kept but has no effect`;

/** Things that are valid but probably not what the author meant, plus fields nemoclaw does not enforce yet. */
export function policyWarnings(policy: Policy | Preset): PathIssue[] {
  const warnings: PathIssue[] = [];
  const warn = (path: Array<string | number>, message: string): void => {
    warnings.push({ path, message });
  };
  if ("network_middlewares" in policy && policy.network_middlewares !== undefined) {
    warn(["network_middlewares"], notEnforced("network_middlewares"));
  }
  if ("filesystem_policy" in policy && policy.filesystem_policy !== undefined) {
    const fs = policy.filesystem_policy as FilesystemPolicy;
    for (const list of ["read_only", "read_write"] as const) {
      const seen = new Set<string>();
      (fs[list] ?? []).forEach((path, index) => {
        const normalized = normalizeFsPath(path);
        if (seen.has(normalized)) warn(["filesystem_policy", list, index], `"${path}" is listed twice in ${list}`);
        seen.add(normalized);
      });
    }
    (fs.read_only ?? []).forEach((path, index) => {
      const outer = (fs.read_write ?? []).find((rw) => normalizeFsPath(rw) !== normalizeFsPath(path) && isWithin(path, rw));
      if (outer !== undefined) {
        warn(
          ["filesystem_policy", "read_only", index],
          `"${path}" is inside read-write "${outer}"; Landlock grants the union of rules, so it stays writable`,
        );
      }
    });
  }
  for (const [key, np] of Object.entries(policy.network_policies ?? {})) {
    const at = ["network_policies", key];
    if ((np.endpoints ?? []).length === 0) warn(at, `network policy "${key}" lists no endpoints, so it allows nothing`);
    if ((np.binaries ?? []).length === 0) warn(at, `network policy "${key}" lists no binaries, so it allows nothing; add the executables that connect`);
    (np.binaries ?? []).forEach((binary, index) => {
      if (/^\/(\*\*?)$/.test(binary.path)) {
        warn([...at, "binaries", index, "path"], `"${binary.path}" matches every executable, so any process may use this policy`);
      }
    });
    (np.endpoints ?? []).forEach((ep, index) => {
      const epAt = [...at, "endpoints", index];
      for (const field of UNENFORCED_FIELDS.endpoint) {
        if (ep[field] !== undefined) warn([...epAt, field], notEnforced(field));
      }
      if (ep.protocol !== undefined && !ENFORCED_PROTOCOLS.has(ep.protocol)) {
        warn([...epAt, "protocol"], `protocol "${ep.protocol}" request inspection is not enforced by nemoclaw yet; its rules are kept but not evaluated`);
      }
      const matchers: Array<[RequestMatcher, Array<string | number>]> = [
        ...(ep.rules ?? []).map((rule, i): [RequestMatcher, Array<string | number>] => [rule.allow, [...epAt, "rules", i, "allow"]]),
        ...(ep.deny_rules ?? []).map((rule, i): [RequestMatcher, Array<string | number>] => [rule, [...epAt, "deny_rules", i]]),
      ];
      for (const [matcher, matcherAt] of matchers) {
        for (const field of UNENFORCED_FIELDS.matcher) {
          if (matcher[field] !== undefined) warn([...matcherAt, field], notEnforced(field));
        }
      }
      if (ep.protocol === undefined && (ep.rules !== undefined || (ep.access !== undefined && ep.access !== "full"))) {
        warn(
          [...epAt, ep.rules !== undefined ? "rules" : "access"],
          "without `protocol: rest` requests are not inspected, so these rules have no effect and the whole host:port is open",
        );
      }
      if (ep.protocol !== undefined && ep.protocol !== "tcp" && ep.enforcement === undefined && (ep.rules !== undefined || ep.deny_rules !== undefined || ep.access !== undefined)) {
        warn(
          [...epAt, "protocol"],
          "no `enforcement:`; nemoclaw enforces these rules (OpenShell would only audit them) — write `enforcement: enforce` or `audit` to say which you mean",
        );
      }
    });
  }
  return warnings;
}
