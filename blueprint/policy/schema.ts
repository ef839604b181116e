// The OpenShell policy format, as nemoclaw reads it: one zod schema used by the plugin, the
// runtime and the control API alike. Field names and meanings follow OpenShell's published
// schema (docs/how-it-works/policies/schema.mdx) and NemoClaw's policy files. Cross-field
// rules live in superRefine so that `PolicySchema.parse` alone is a complete validation.
//
// Fields the published format has but nemoclaw does not enforce yet are parsed and kept (so a
// policy round-trips unchanged) and listed by `policyWarnings`; they never widen access here,
// and the enforcing side must treat a matcher it cannot evaluate as not matching.

import { BlockList, isIP } from "node:net";
import { z } from "zod";

// ── Hosts ──────────────────────────────────────────────────────────────────────────────────

// Two-label public suffixes under which a first-label wildcard would still span many unrelated
// owners. Not the whole Public Suffix List: the common registries people actually mistype.
const MULTI_LABEL_PUBLIC_SUFFIXES = new Set([
  "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "com.au", "net.au", "org.au", "co.nz",
  "co.jp", "ne.jp", "or.jp", "co.kr", "com.br", "com.cn", "com.mx", "co.in", "co.za",
  "com.tr", "com.tw", "com.sg", "com.hk", "co.il",
]);

const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;
const WILDCARD_LABEL = /^[A-Za-z0-9_*-]+$/;

/** Returns why `host` is not an acceptable endpoint host, or undefined when it is. */
export function hostProblem(host: string): string | undefined {
  if (host.length === 0) return "host is empty; write a name such as api.example.com";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    return `"${host}" is a URL; write only the host name (e.g. api.example.com) and put the port in \`port\``;
  }
  if (isIP(host) !== 0) return undefined;
  if (host.startsWith("[") && host.endsWith("]")) {
    return "write IPv6 addresses without brackets";
  }
  if (/:\d+$/.test(host)) return `"${host}" includes a port; move it to \`port\``;
  if (host.includes("/")) return `"${host}" includes a path; write only the host name`;
  if (host.length > 253) return "host is longer than 253 characters";
  const labels = host.split(".");
  if (labels.some((label) => label.length === 0)) {
    return `"${host}" has an empty label (leading, trailing or double dot)`;
  }
  if (!host.includes("*")) {
    const bad = labels.find((label) => !LABEL.test(label) || label.length > 63);
    return bad === undefined ? undefined : `"${bad}" is not a valid DNS label in "${host}"`;
  }
  if (host === "*" || host === "**") {
    return `"${host}" matches every host; name the hosts (e.g. *.example.com)`;
  }
  const [first, ...rest] = labels;
  if (rest.some((label) => label.includes("*"))) {
    return `wildcards are only allowed in the first label (e.g. *.example.com), not in "${host}"`;
  }
  if (first === undefined || !WILDCARD_LABEL.test(first) || (first.includes("**") && first !== "**")) {
    return `"${first ?? ""}" is not a valid wildcard label; use * inside the first label or ** as the whole first label`;
  }
  const bad = rest.find((label) => !LABEL.test(label));
  if (bad !== undefined) return `"${bad}" is not a valid DNS label in "${host}"`;
  if (rest.length < 2 || MULTI_LABEL_PUBLIC_SUFFIXES.has(rest.join(".").toLowerCase())) {
    return `"${host}" wildcards over a public suffix (every site under .${rest.join(".")}); name the domain, e.g. *.example.${rest.join(".")}`;
  }
  return undefined;
}

// ── Addresses ──────────────────────────────────────────────────────────────────────────────

/**
 * Never reachable whatever the policy says: metadata services hand out credentials (AWS/GCP/Azure,
 * AWS IPv6, Alibaba, Oracle). One list: the gateway's hard blocks use it too.
 */
export const METADATA_ADDRESS_LIST = ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"] as const;
// A range that covers a link-local metadata address is refused outright. The Alibaba and Oracle
// addresses sit inside ranges people allow on purpose (100.64.0.0/10 is Tailscale's), so only
// naming one of them exactly is refused; the gateway blocks all four whatever the range says.
const LINK_LOCAL_METADATA: Array<[string, "ipv4" | "ipv6"]> = [
  ["169.254.169.254", "ipv4"],
  ["fd00:ec2::254", "ipv6"],
];
const UNSPECIFIED_ADDRESSES: Array<[string, "ipv4" | "ipv6"]> = [
  ["0.0.0.0", "ipv4"],
  ["::", "ipv6"],
];

/** Returns why `entry` is not an acceptable `allowed_ips` entry, or undefined when it is. */
export function cidrProblem(entry: string): string | undefined {
  const [address = "", prefixText, ...extra] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || extra.length > 0) {
    return `"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8 or 192.168.1.20)`;
  }
  const maxPrefix = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) {
    return `"${entry}" has an invalid prefix length; write /0 to /${maxPrefix}`;
  }
  if (prefix > maxPrefix) return `"${entry}": prefix /${prefix} is out of range for IPv${family} (0..${maxPrefix})`;
  if (prefix === 0) return `"${entry}" matches every address; list the networks the endpoint lives in`;
  const type = family === 4 ? "ipv4" : "ipv6";
  const block = new BlockList();
  block.addSubnet(address, prefix, type);
  for (const [candidate, candidateType] of UNSPECIFIED_ADDRESSES) {
    if (block.check(candidate, candidateType)) {
      return `"${entry}" covers the unspecified address ${candidate}; it is never a valid destination`;
    }
  }
  for (const [candidate, candidateType] of LINK_LOCAL_METADATA) {
    if (block.check(candidate, candidateType)) {
      return `"${entry}" covers the cloud metadata address ${candidate}, which is always blocked; narrow the range`;
    }
  }
  if (prefix === maxPrefix && (METADATA_ADDRESS_LIST as readonly string[]).includes(address.toLowerCase())) {
    return `"${entry}" is a cloud metadata address, which is always blocked`;
  }
  return undefined;
}

// ── Filesystem paths ───────────────────────────────────────────────────────────────────────

/** `/a//b/` → `/a/b`: the form paths are compared in. */
export function normalizeFsPath(path: string): string {
  const collapsed = path.replace(/\/+/g, "/");
  return collapsed.length > 1 ? collapsed.replace(/\/$/, "") : collapsed;
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: string, outer: string): boolean {
  const a = normalizeFsPath(inner);
  const b = normalizeFsPath(outer);
  return a === b || b === "/" || a.startsWith(`${b}/`);
}

const fsPath = z
  .string()
  .min(1, "path is empty; write an absolute path such as /usr")
  .max(4096, "path is longer than 4096 characters")
  .refine((p) => p.startsWith("/"), { error: "path must be absolute (start with /)" })
  .refine((p) => !p.split("/").includes(".."), { error: "path must not contain .. components; write the real path" })
  .refine((p) => !p.includes("\0"), { error: "path contains a NUL byte" });

// ── Sections ───────────────────────────────────────────────────────────────────────────────

export const FilesystemPolicySchema = z
  .strictObject({
    include_workdir: z.boolean().optional(),
    read_only: z.array(fsPath).optional(),
    read_write: z.array(fsPath).optional(),
  })
  .superRefine((fs, ctx) => {
    const readOnly = fs.read_only ?? [];
    const readWrite = fs.read_write ?? [];
    if (readOnly.length + readWrite.length > 256) {
      ctx.addIssue({ code: "custom", path: [], message: "more than 256 paths in read_only and read_write together; list parent directories instead" });
    }
    const readOnlySet = new Set(readOnly.map(normalizeFsPath));
    readWrite.forEach((path, index) => {
      const normalized = normalizeFsPath(path);
      if (normalized === "/") {
        ctx.addIssue({
          code: "custom",
          path: ["read_write", index],
          message: "read-write / would let the workload write anywhere; list the directories it needs (e.g. /sandbox, /tmp)",
        });
      } else if (readOnlySet.has(normalized)) {
        ctx.addIssue({
          code: "custom",
          path: ["read_write", index],
          message: `"${path}" is listed in both read_only and read_write; keep it in one list`,
        });
      }
    });
  });

export const LandlockSchema = z.strictObject({
  compatibility: z.enum(["best_effort", "hard_requirement"]).optional(),
});

const processId = z
  .union([z.string(), z.number()])
  .transform((value) => String(value))
  .superRefine((value, ctx) => {
    if (value === "sandbox") return;
    if (value === "0" || value === "root") {
      ctx.addIssue({ code: "custom", message: "the workload never runs as root; use sandbox or a numeric id from 1" });
    } else if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 4294967294) {
      ctx.addIssue({ code: "custom", message: `"${value}" is not sandbox or a numeric id from 1 to 4294967294` });
    }
  });

export const ProcessSchema = z.strictObject({
  run_as_user: processId.optional(),
  run_as_group: processId.optional(),
});

// ── Network ────────────────────────────────────────────────────────────────────────────────

const portOutOfRange = (issue: { input?: unknown }): string => `port ${String(issue.input)} is out of range; use a port from 1 to 65535`;
export const PortSchema = z
  .number({ error: "port must be a number, e.g. 443" })
  .int("port must be a whole number, e.g. 443")
  .min(1, { error: portOutOfRange })
  .max(65535, { error: portOutOfRange });

const hostSchema = z.string().superRefine((host, ctx) => {
  const problem = hostProblem(host);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const cidrSchema = z.string().superRefine((entry, ctx) => {
  const problem = cidrProblem(entry);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const QueryMatcherSchema = z.union([z.string(), z.strictObject({ any: z.array(z.string()).min(1) })]);

/** Request matcher: `rules[].allow` and each `deny_rules[]` entry. */
export const RequestMatcherSchema = z.strictObject({
  method: z.string().min(1).optional(),
  path: z.string().min(1).optional(),
  query: z.record(z.string(), QueryMatcherSchema).optional(),
  // GraphQL and MCP matchers: published, kept, not enforced yet.
  operation_type: z.unknown().optional(),
  operation_name: z.unknown().optional(),
  fields: z.unknown().optional(),
  tool: z.unknown().optional(),
  params: z.unknown().optional(),
});

export const AllowRuleSchema = z.strictObject({ allow: RequestMatcherSchema });

export const PROTOCOLS = ["rest", "websocket", "graphql", "mcp", "json-rpc", "tcp"] as const;
/** Protocols whose request rules nemoclaw's proxy evaluates today. */
export const ENFORCED_PROTOCOLS: ReadonlySet<string> = new Set(["rest", "tcp"]);
const HTTP_METHOD = /^(\*|[A-Z]+)$/;

export const EndpointSchema = z
  .strictObject({
    host: hostSchema.optional(),
    port: PortSchema.optional(),
    ports: z.array(PortSchema).min(1, "ports is empty; list at least one port").optional(),
    path: z.string().min(1).optional(),
    protocol: z.enum(PROTOCOLS).optional(),
    // `terminate`/`passthrough` are the spellings NemoClaw's published files use; newer
    // OpenShell spells passthrough `skip` and terminates by default.
    tls: z.enum(["terminate", "passthrough", "skip"]).optional(),
    enforcement: z.enum(["enforce", "audit"]).optional(),
    access: z.enum(["read-only", "read-write", "full"]).optional(),
    rules: z.array(AllowRuleSchema).optional(),
    deny_rules: z.array(RequestMatcherSchema).optional(),
    allowed_ips: z.array(cidrSchema).min(1, "allowed_ips is empty; list addresses or remove it").optional(),
    // Published, kept, not enforced yet (credentials never enter the sandbox in nemoclaw).
    allow_encoded_slash: z.boolean().optional(),
    credential_binding: z.unknown().optional(),
    request_body_credential_rewrite: z.unknown().optional(),
    websocket_credential_rewrite: z.unknown().optional(),
    allow_uninspected_credentials: z.unknown().optional(),
    credential_signing: z.unknown().optional(),
    signing_service: z.unknown().optional(),
    signing_region: z.unknown().optional(),
    persisted_queries: z.unknown().optional(),
    graphql_persisted_queries: z.unknown().optional(),
    graphql_max_body_bytes: z.unknown().optional(),
    mcp: z.unknown().optional(),
    json_rpc: z.unknown().optional(),
  })
  .superRefine((ep, ctx) => {
    const issue = (path: Array<string | number>, message: string): void => {
      ctx.addIssue({ code: "custom", path, message });
    };
    if (ep.port !== undefined && ep.ports !== undefined) {
      issue(["ports"], "set either port or ports, not both");
    }
    if (ep.port === undefined && ep.ports === undefined) {
      issue([], "endpoint has no port; add `port: 443` (or `ports: [...]`)");
    }
    if (ep.host === undefined && ep.allowed_ips === undefined) {
      issue([], "endpoint has no host; add `host:` (or `allowed_ips:` for an address-only endpoint)");
    }
    if (ep.access !== undefined && ep.rules !== undefined) {
      issue(["access"], "access and rules cannot be combined; keep the preset or list the rules");
    }
    if (ep.deny_rules !== undefined) {
      if (ep.protocol === undefined) {
        issue(["deny_rules"], "deny_rules need a protocol that inspects requests (e.g. `protocol: rest`)");
      } else if (ep.protocol !== "mcp" && ep.rules === undefined && ep.access === undefined) {
        issue(["deny_rules"], "deny_rules need rules or access to carve exceptions from");
      }
    }
    if (ep.protocol === "tcp") {
      if (ep.host === undefined) issue(["protocol"], "protocol tcp needs a host");
      for (const field of ["path", "enforcement", "access", "rules", "deny_rules"] as const) {
        if (ep[field] !== undefined) issue([field], `protocol tcp does not inspect requests; remove ${field}`);
      }
    } else if (ep.protocol === "rest" || ep.protocol === "websocket" || ep.protocol === "graphql") {
      if (ep.access === undefined && ep.rules === undefined) {
        issue(["protocol"], `protocol ${ep.protocol} inspects requests but nothing is allowed; add \`access: read-only\` (or read-write/full) or rules`);
      }
    }
    if (ep.protocol !== undefined && ep.protocol !== "tcp" && (ep.tls === "skip" || ep.tls === "passthrough")) {
      issue(["tls"], `tls: ${ep.tls} relays bytes unread, so protocol ${ep.protocol} rules could not be checked; remove one of them`);
    }
    // REST-shaped rules (also used by websocket and by endpoints without a protocol).
    if (ep.protocol === undefined || ep.protocol === "rest" || ep.protocol === "websocket") {
      const check = (matcher: z.infer<typeof RequestMatcherSchema>, path: Array<string | number>, allow: boolean): void => {
        if (matcher.method === undefined) {
          if (allow) issue(path, 'rule has no method; add `method: GET` (or "*" for any)');
        } else if (!HTTP_METHOD.test(matcher.method)) {
          issue([...path, "method"], `"${matcher.method}" is not an HTTP method; write it in capitals (GET, POST, …) or "*"`);
        }
        if (matcher.path === undefined) {
          if (allow) issue(path, 'rule has no path; add `path: "/**"` for every path');
        } else if (!matcher.path.startsWith("/") && matcher.path !== "**") {
          issue([...path, "path"], `request path "${matcher.path}" must start with /`);
        }
      };
      ep.rules?.forEach((rule, index) => check(rule.allow, ["rules", index, "allow"], true));
      ep.deny_rules?.forEach((rule, index) => check(rule, ["deny_rules", index], false));
    }
  });

export const BinarySchema = z.strictObject({
  path: z
    .string()
    .min(1, "binary path is empty")
    .refine((p) => p.startsWith("/"), { error: "binary path must be absolute (e.g. /usr/bin/node) or a glob such as /usr/lib/jvm/*/bin/java" }),
});

export const NetworkPolicySchema = z.strictObject({
  name: z.string().min(1).optional(),
  endpoints: z.array(EndpointSchema).optional(),
  binaries: z.array(BinarySchema).optional(),
});

const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const NetworkPolicyNameSchema = z
  .string()
  .regex(POLICY_NAME, "network policy names use letters, digits, _ . - (e.g. github_api)")
  .refine((name) => !name.startsWith("_provider_"), { error: "names starting with _provider_ are reserved for provider rules" });

export const NetworkPoliciesSchema = z.record(NetworkPolicyNameSchema, NetworkPolicySchema);

// ── Documents ──────────────────────────────────────────────────────────────────────────────

export const PolicySchema = z.strictObject({
  version: z.literal(1, { error: "version must be 1, the only OpenShell policy version" }),
  filesystem_policy: FilesystemPolicySchema.optional(),
  landlock: LandlockSchema.optional(),
  process: ProcessSchema.optional(),
  network_policies: NetworkPoliciesSchema.optional(),
  // Published, kept, not enforced yet.
  network_middlewares: z.unknown().optional(),
  /**
   * nemoclaw's own (not in OpenShell's format): `observe` makes the egress gateway let nothing
   * leave and hold nothing. Every attempt is refused and recorded, with method and path (TLS is
   * terminated with the sandbox CA for every CONNECT), marked with whether the network policies
   * would have allowed it; only names the runtime answers in-process (inference.local) are
   * served, and only when the policies allow them. `skill test` runs with it. Default `enforce`.
   */
  egress_mode: z.enum(["enforce", "observe"]).optional(),
});

const staticInPreset = z.never({
  error: "presets may only add network_policies; filesystem_policy, landlock and process come from the base policy",
});

/**
 * A preset: network policies to add to a base policy, plus a one-line description. The
 * description is either top-level (`description:`) or in NemoClaw's `preset:` block.
 */
export const PresetSchema = z
  .strictObject({
    version: z.literal(1, { error: "version must be 1" }).optional(),
    description: z.string().min(1).optional(),
    preset: z.strictObject({ name: z.string().min(1).optional(), description: z.string().min(1).optional() }).optional(),
    network_policies: NetworkPoliciesSchema,
    filesystem_policy: staticInPreset.optional(),
    landlock: staticInPreset.optional(),
    process: staticInPreset.optional(),
  })
  .superRefine((preset, ctx) => {
    if (preset.description === undefined && preset.preset?.description === undefined) {
      ctx.addIssue({ code: "custom", path: [], message: "preset has no description; add a one-line `description:` at the top" });
    }
    if (Object.keys(preset.network_policies).length === 0) {
      ctx.addIssue({ code: "custom", path: ["network_policies"], message: "preset adds no network policies" });
    }
  });

export type FilesystemPolicy = z.infer<typeof FilesystemPolicySchema>;
export type Landlock = z.infer<typeof LandlockSchema>;
export type ProcessPolicy = z.infer<typeof ProcessSchema>;
export type RequestMatcher = z.infer<typeof RequestMatcherSchema>;
export type AllowRule = z.infer<typeof AllowRuleSchema>;
export type Endpoint = z.infer<typeof EndpointSchema>;
export type Binary = z.infer<typeof BinarySchema>;
export type NetworkPolicy = z.infer<typeof NetworkPolicySchema>;
export type NetworkPolicies = z.infer<typeof NetworkPoliciesSchema>;
export type Policy = z.infer<typeof PolicySchema>;
export type Preset = z.infer<typeof PresetSchema>;
export type Protocol = (typeof PROTOCOLS)[number];

/** The preset's one-line description, wherever the file put it. */
export function presetDescription(preset: Preset): string {
  return preset.description ?? preset.preset?.description ?? "";
}

/** Effective ports of an endpoint (`ports` wins over `port`). */
export function endpointPorts(endpoint: Endpoint): number[] {
  return endpoint.ports ?? (endpoint.port === undefined ? [] : [endpoint.port]);
}
