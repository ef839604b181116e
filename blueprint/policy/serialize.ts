// Policy → YAML in the layout people write by hand: sections in a fixed order, fields in the
// order the OpenShell docs list them, and one-line `{ path: … }` / `{ method, path }` entries.
// Loading what this writes gives back a deep-equal policy.

import { Document, isPair, isScalar, visit } from "yaml";
import type { Policy, Preset } from "./schema.js";

const KEY_ORDER = [
  // documents
  "version", "description", "preset", "egress_mode", "filesystem_policy", "landlock", "process", "network_policies", "network_middlewares",
  // sections
  "include_workdir", "read_only", "read_write", "compatibility", "run_as_user", "run_as_group",
  // network policies and endpoints
  "name", "endpoints", "binaries", "host", "port", "ports", "method", "path", "protocol", "tls", "enforcement",
  "access", "rules", "deny_rules", "allowed_ips", "allow", "query",
];
const rank = new Map(KEY_ORDER.map((key, index) => [key, index]));

export interface SerializeOptions {
  /** Comment lines written at the top of the file (without the leading `#`). */
  header?: string;
  /** A comment above each named network policy (key → text; lines without the leading `#`). */
  networkPolicyComments?: Readonly<Record<string, string>>;
}

/** Writes a policy as YAML. */
export function serializePolicy(policy: Policy, options: SerializeOptions = {}): string {
  return serialize(policy, options);
}

/** Writes a preset as YAML. */
export function serializePreset(preset: Preset, options: SerializeOptions = {}): string {
  return serialize(preset, options);
}

function serialize(value: object, options: SerializeOptions): string {
  const doc = new Document(ordered(value));
  visit(doc, {
    Map(key, node, path) {
      // Keep short leaf mappings (binaries, rule matchers) on one line.
      const parent = path[path.length - 1];
      const parentKey = isPair(parent) && isScalar(parent.key) ? parent.key.value : key;
      const allScalars = node.items.every((item) => isScalar(item.value));
      if (allScalars && node.items.length > 0 && node.items.length <= 3 && (parentKey === "allow" || typeof parentKey === "number")) {
        node.flow = true;
      }
    },
    Seq(_key, node) {
      if (node.items.length > 0 && node.items.every((item) => isScalar(item) && typeof item.value === "number")) node.flow = true;
    },
  });
  const comments = options.networkPolicyComments ?? {};
  visit(doc, {
    Pair(_key, pair, path) {
      const parent = path[path.length - 2];
      if (!isPair(parent) || !isScalar(parent.key) || parent.key.value !== "network_policies" || !isScalar(pair.key)) return;
      const text = comments[String(pair.key.value)];
      if (text !== undefined) pair.key.commentBefore = text.split("\n").map((line) => ` ${line}`).join("\n");
    },
  });
  if (options.header !== undefined) {
    doc.commentBefore = options.header
      .split("\n")
      .map((line) => (line.length > 0 ? ` ${line}` : ""))
      .join("\n");
  }
  return doc.toString({ lineWidth: 0 });
}

// Maps keyed by user-chosen names keep their authored order.
const NAMED_MAPS = new Set(["network_policies", "network_middlewares", "query"]);

function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (rank.get(a) ?? KEY_ORDER.length) - (rank.get(b) ?? KEY_ORDER.length));
  return Object.fromEntries(
    entries.map(([k, v]) => [k, NAMED_MAPS.has(k) && v !== null && typeof v === "object" && !Array.isArray(v) ? orderedValues(v) : ordered(v)]),
  );
}

function orderedValues(map: object): unknown {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, ordered(v)]));
}
