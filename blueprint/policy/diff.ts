// What changed between two policies, by section: static sections (fixed at create) versus the
// network part that reloads live. Comparison is on a canonical form, so key order, duplicate
// entries and equivalent spellings do not count as changes.
import { isDeepStrictEqual } from "node:util";
import { endpointPorts, normalizeFsPath } from "./schema.js";
import type { NetworkPolicy, Policy } from "./schema.js";

/** Fixed when the sandbox is created: changing them means recreating it. */
export const STATIC_SECTIONS = ["filesystem_policy", "landlock", "process"] as const;
/** Hot-reloadable into a running sandbox's proxy. */
export const DYNAMIC_SECTIONS = ["network_policies", "network_middlewares", "egress_mode"] as const;
export type StaticSection = (typeof STATIC_SECTIONS)[number];
export type DynamicSection = (typeof DYNAMIC_SECTIONS)[number];

export interface SectionChanges {
  static: StaticSection[];
  dynamic: DynamicSection[];
  /** True when a static section changed, so the sandbox must be recreated. */
  recreateNeeded: boolean;
}

/** Which top-level sections differ between two policies, ignoring list order and duplicates. */
export function changedSections(before: Policy, after: Policy): SectionChanges {
  const a = canonicalPolicy(before);
  const b = canonicalPolicy(after);
  const staticChanged = STATIC_SECTIONS.filter((section) => !isDeepStrictEqual(a[section], b[section]));
  const dynamicChanged = DYNAMIC_SECTIONS.filter((section) => !isDeepStrictEqual(a[section], b[section]));
  return { static: staticChanged, dynamic: dynamicChanged, recreateNeeded: staticChanged.length > 0 };
}

/** True when two network policies grant the same thing (list order, duplicates and a `name` equal to the key aside). */
export function sameNetworkPolicy(key: string, a: NetworkPolicy, b: NetworkPolicy): boolean {
  return isDeepStrictEqual(canonicalNetworkPolicy(key, a), canonicalNetworkPolicy(key, b));
}

function sortedUnique<T>(items: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(stableStringify(item), item);
  return [...byKey.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, item]) => item);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

function canonicalNetworkPolicy(key: string, policy: NetworkPolicy): unknown {
  return {
    name: policy.name ?? key,
    endpoints: sortedUnique(
      (policy.endpoints ?? []).map((ep) => ({
        ...ep,
        port: undefined,
        ports: [...new Set(endpointPorts(ep))].sort((x, y) => x - y),
        rules: ep.rules === undefined ? undefined : sortedUnique(ep.rules),
        deny_rules: ep.deny_rules === undefined ? undefined : sortedUnique(ep.deny_rules),
        allowed_ips: ep.allowed_ips === undefined ? undefined : sortedUnique(ep.allowed_ips),
      })).map((ep) => JSON.parse(stableStringify(ep)) as unknown),
    ),
    binaries: sortedUnique((policy.binaries ?? []).map((binary) => binary.path)),
  };
}

function canonicalPolicy(policy: Policy): Record<StaticSection | DynamicSection, unknown> {
  const fs = policy.filesystem_policy;
  return {
    filesystem_policy:
      fs === undefined
        ? undefined
        : {
            include_workdir: fs.include_workdir ?? false,
            read_only: sortedUnique((fs.read_only ?? []).map(normalizeFsPath)),
            read_write: sortedUnique((fs.read_write ?? []).map(normalizeFsPath)),
          },
    landlock: { compatibility: policy.landlock?.compatibility ?? "best_effort" },
    // An empty process section and an absent one both leave the identity to the driver.
    process: policy.process === undefined || Object.keys(policy.process).length === 0 ? undefined : JSON.parse(stableStringify(policy.process)),
    network_policies: Object.fromEntries(
      Object.entries(policy.network_policies ?? {}).map(([key, np]) => [key, canonicalNetworkPolicy(key, np)]),
    ),
    network_middlewares: policy.network_middlewares === undefined ? undefined : JSON.parse(stableStringify(policy.network_middlewares)),
    egress_mode: policy.egress_mode ?? "enforce",
  };
}

