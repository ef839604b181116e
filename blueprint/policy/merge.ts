// Presets add network policies to a base policy. They never change the static sections
// (filesystem, Landlock, process): those are fixed when the sandbox is created and come only
// from the base. A preset may repeat a policy the base (or another preset) already has, but it
// may not redefine it: that would silently widen or narrow someone else's rule.

import { isDeepStrictEqual } from "node:util";
import { normalizeFsPath } from "./schema.js";
import { sameNetworkPolicy } from "./diff.js";
import type { Endpoint, NetworkPolicy, Policy, Preset } from "./schema.js";

/** A policy or preset together with where it came from (a file path or preset name). */
export interface Sourced<T> {
  source: string;
  policy: T;
}

export interface MergedPolicy {
  policy: Policy;
  /** For each network policy name, every source that defines it (base first). */
  origins: Record<string, string[]>;
}

/** Two sources define the same network policy name with different content. */
export class MergeConflictError extends Error {
  readonly policyName: string;
  readonly existingSource: string;
  readonly incomingSource: string;

  constructor(policyName: string, existingSource: string, incomingSource: string) {
    super(
      `network policy "${policyName}" is defined differently by ${existingSource} and ${incomingSource}; ` +
        `rename it in one of them or make both definitions identical`,
    );
    this.name = "MergeConflictError";
    this.policyName = policyName;
    this.existingSource = existingSource;
    this.incomingSource = incomingSource;
  }
}

/** Adds the presets' network policies to the base, in order. Throws MergeConflictError. */
export function mergePresets(base: Sourced<Policy>, presets: ReadonlyArray<Sourced<Preset>>): MergedPolicy {
  const networkPolicies: Record<string, NetworkPolicy> = {};
  const origins: Record<string, string[]> = {};

  const add = (source: string, policies: Record<string, NetworkPolicy> | undefined): void => {
    for (const [name, incoming] of Object.entries(policies ?? {})) {
      const existing = networkPolicies[name];
      const existingOrigins = origins[name];
      if (existing === undefined || existingOrigins === undefined) {
        networkPolicies[name] = dedupeNetworkPolicy(incoming);
        origins[name] = [source];
      } else if (sameNetworkPolicy(name, existing, incoming)) {
        existingOrigins.push(source);
      } else {
        throw new MergeConflictError(name, existingOrigins[0] ?? "the base policy", source);
      }
    }
  };

  add(base.source, base.policy.network_policies);
  for (const preset of presets) add(preset.source, preset.policy.network_policies);

  const { network_policies: _ignored, filesystem_policy, ...rest } = base.policy;
  const policy: Policy = { ...rest };
  if (filesystem_policy !== undefined) {
    policy.filesystem_policy = {
      ...filesystem_policy,
      ...(filesystem_policy.read_only === undefined ? {} : { read_only: uniquePaths(filesystem_policy.read_only) }),
      ...(filesystem_policy.read_write === undefined ? {} : { read_write: uniquePaths(filesystem_policy.read_write) }),
    };
  }
  if (base.policy.network_policies !== undefined || Object.keys(networkPolicies).length > 0) {
    policy.network_policies = networkPolicies;
  }
  return { policy: reorder(policy), origins };
}

function reorder(policy: Policy): Policy {
  const { version, egress_mode, filesystem_policy, landlock, process, network_policies, network_middlewares } = policy;
  return Object.fromEntries(
    Object.entries({ version, egress_mode, filesystem_policy, landlock, process, network_policies, network_middlewares }).filter(
      ([, value]) => value !== undefined,
    ),
  ) as Policy;
}

function unique<T>(items: readonly T[]): T[] {
  const out: T[] = [];
  for (const item of items) if (!out.some((seen) => isDeepStrictEqual(seen, item))) out.push(item);
  return out;
}

function uniquePaths(paths: readonly string[]): string[] {
  const seen = new Set<string>();
  return paths.filter((path) => {
    const key = normalizeFsPath(path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function dedupeEndpoint(endpoint: Endpoint): Endpoint {
  const out: Endpoint = { ...endpoint };
  if (out.ports !== undefined) out.ports = unique(out.ports);
  if (out.rules !== undefined) out.rules = unique(out.rules);
  if (out.deny_rules !== undefined) out.deny_rules = unique(out.deny_rules);
  if (out.allowed_ips !== undefined) out.allowed_ips = unique(out.allowed_ips);
  return out;
}

function dedupeNetworkPolicy(policy: NetworkPolicy): NetworkPolicy {
  const out: NetworkPolicy = { ...policy };
  if (out.endpoints !== undefined) out.endpoints = unique(out.endpoints.map(dedupeEndpoint));
  if (out.binaries !== undefined) out.binaries = unique(out.binaries);
  return out;
}
