// The JSON-level three-way merge behind `eject`: the operator's OpenClaw config as it was before
// onboarding (base, the snapshot), as onboarding left it (ours), and as it is now (theirs). What
// the operator changed since onboarding (ours → theirs) is applied to base, except the keys
// nemoclaw owns (the launch switch) and the metadata OpenClaw stamps on every write. Pure: no
// file access, so every case is a unit test.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type KeyPath = readonly string[];

/** What nemoclaw writes into the operator's config: the launch switch (src/launch/enable.ts). */
export const OWNED_PATHS: readonly KeyPath[] = [["plugins", "entries", "nemoclaw", "config", "launch"]];

/** What OpenClaw stamps on each config write (its AUTO_MANAGED_CONFIG_META_PATHS): nobody's edit. */
export const STAMPED_PATHS: readonly KeyPath[] = [
  ["meta", "lastTouchedVersion"],
  ["meta", "migrations", "modelPolicyAllowlist"],
  ["meta", "migrations", "utilityModelSeparation"],
];

export type Change = { path: KeyPath; kind: "set"; value: Json } | { path: KeyPath; kind: "delete" };

export type MergeResult = {
  /** The config to write: base plus the operator's later changes. */
  config: JsonObject;
  /** The operator's changes since onboarding that were carried over; empty: base as it was. */
  merged: Change[];
};

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

const startsWith = (p: KeyPath, prefix: KeyPath) => prefix.length <= p.length && prefix.every((k, i) => p[i] === k);

/** Leaf-level changes that turn `from` into `to`; arrays and scalars are leaves. */
export function diff(from: Json | undefined, to: Json | undefined, at: KeyPath = []): Change[] {
  if (jsonEqual(from, to)) return [];
  if (to === undefined) return [{ path: at, kind: "delete" }];
  // An added object is its leaves (`gateway.port`, not `gateway`), so messages name what was set.
  if (from === undefined && isObject(to) && Object.keys(to).length > 0) return diff({}, to, at);
  if (!isObject(from) || !isObject(to)) return [{ path: at, kind: "set", value: to }];
  const out: Change[] = [];
  for (const key of Object.keys(from)) if (!(key in to)) out.push({ path: [...at, key], kind: "delete" });
  for (const key of Object.keys(to)) out.push(...diff(from[key], to[key], [...at, key]));
  return out;
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

/** Applies one change in place; objects on the way are made when missing (or not objects). */
function apply(target: JsonObject, change: Change): void {
  let node: JsonObject = target;
  for (const key of change.path.slice(0, -1)) {
    if (!isObject(node[key])) {
      if (change.kind === "delete") return;
      node[key] = {};
    }
    node = node[key] as JsonObject;
  }
  const last = change.path[change.path.length - 1];
  if (last === undefined) return;
  if (change.kind === "set") node[last] = clone(change.value);
  else delete node[last];
}

/** `value` at `path` of `config`, or undefined. */
export function getPath(config: Json | undefined, path: KeyPath): Json | undefined {
  let node = config;
  for (const key of path) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** `config` with the value at `path` replaced by `value` (removed when undefined). */
export function withPath(config: JsonObject, path: KeyPath, value: Json | undefined): JsonObject {
  const out = clone(config);
  apply(out, value === undefined ? { path, kind: "delete" } : { path, kind: "set", value });
  return out;
}

/**
 * Objects that `ours` added only to hold owned or stamped keys (`plugins.entries.nemoclaw.config`
 * made by `launch enable`) and that are empty once those keys are gone do not count as the
 * operator's additions.
 */
function pruneEmptyAdded(config: JsonObject, base: JsonObject): JsonObject {
  const walk = (node: JsonObject, baseNode: Json | undefined): void => {
    for (const [key, value] of Object.entries(node)) {
      if (!isObject(value)) continue;
      const baseChild = isObject(baseNode) ? baseNode[key] : undefined;
      walk(value, baseChild);
      if (Object.keys(value).length === 0 && baseChild === undefined) delete node[key];
    }
  };
  const out = clone(config);
  walk(out, base);
  return out;
}

/**
 * The operator's config without nemoclaw: base plus every change the operator made between
 * `ours` and `theirs`, owned and stamped keys excepted. When nothing was merged, the caller
 * writes base's bytes back unchanged.
 */
export function mergeHostConfig(base: JsonObject, ours: JsonObject, theirs: JsonObject): MergeResult {
  const ignored = [...OWNED_PATHS, ...STAMPED_PATHS];
  const merged = diff(ours, theirs).filter((c) => !ignored.some((p) => startsWith(c.path, p)));
  // A change that leaves base's own value (e.g. the operator undid an edit) is no change.
  const effective = merged.filter((c) => !jsonEqual(getPath(base, c.path), c.kind === "set" ? c.value : undefined));
  const config = clone(base);
  for (const change of effective) apply(config, change);
  const pruned = pruneEmptyAdded(config, base);
  const real = diff(base, pruned);
  return { config: pruned, merged: real.length === 0 ? [] : effective };
}

/**
 * What onboarding left when no copy of it was kept: base with theirs' owned and stamped values.
 * Everything else theirs differs in is then the operator's.
 */
export function assumedOurs(base: JsonObject, theirs: JsonObject): JsonObject {
  let out = clone(base);
  for (const p of [...OWNED_PATHS, ...STAMPED_PATHS]) out = withPath(out, p, getPath(theirs, p));
  return out;
}

/** `config` without nemoclaw's keys, and without the objects on their path that only held them. */
export function withoutOwned(config: JsonObject): JsonObject {
  let out = clone(config);
  for (const p of OWNED_PATHS) {
    out = withPath(out, p, undefined);
    for (let depth = p.length - 1; depth > 0; depth--) {
      const holder = getPath(out, p.slice(0, depth));
      if (!isObject(holder) || Object.keys(holder).length > 0) break;
      out = withPath(out, p.slice(0, depth), undefined);
    }
  }
  return out;
}

/** `a.b.c` for messages; keys that are not plain identifiers are quoted. */
export function formatPath(path: KeyPath): string {
  return path.map((k) => (/^[A-Za-z_$][\w$-]*$/.test(k) ? k : JSON.stringify(k))).join(".");
}
