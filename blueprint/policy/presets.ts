// The presets shipped in policies/presets/*.yaml: what each is called, what it is for and what
// it lets through, for the onboarding wizard and `openclaw nemoclaw policy presets`.

import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { policiesDir } from "../state/runtime-files.js";
import { loadPresetFile, PolicyError } from "./load.js";
import type { PolicyIssue } from "./load.js";
import { endpointPorts, presetDescription } from "./schema.js";
import type { Endpoint, Preset } from "./schema.js";

export interface PresetInfo {
  /** File name without `.yaml`; what users type (`--preset github`). */
  name: string;
  description: string;
  file: string;
  /** Every destination it opens, as `host:port` (address-only endpoints show their ranges). */
  allows: string[];
  /** What each endpoint lets through, generated from its rules (`host:port: GET /**, POST /graphql; never * /x`). */
  permits: string[];
  /** The network policy names it adds. */
  policies: string[];
  preset: Preset;
  warnings: PolicyIssue[];
}

const BASE_POLICY = "openclaw-sandbox.yaml";

/** Path of the base policy inside a policies directory. */
export function basePolicyPath(dir: string = policiesDir()): string {
  return join(dir, BASE_POLICY);
}

/** Default location of the preset files. */
export function presetsDir(dir: string = policiesDir()): string {
  return join(dir, "presets");
}

/** One endpoint's destinations as `host:port` (an address-only endpoint shows its ranges). */
export function endpointDestinations(endpoint: Endpoint): string[] {
  const host = endpoint.host ?? `[${(endpoint.allowed_ips ?? []).join(",")}]`;
  return endpointPorts(endpoint).map((port) => `${host}:${port}`);
}

/** What a preset lets through, as sorted unique `host:port` strings. */
export function presetAllows(preset: Preset): string[] {
  const out = new Set<string>();
  for (const policy of Object.values(preset.network_policies)) {
    for (const endpoint of policy.endpoints ?? []) for (const d of endpointDestinations(endpoint)) out.add(d);
  }
  return [...out].sort();
}

const ACCESS_METHODS = { "read-only": "GET, HEAD, OPTIONS", "read-write": "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE", full: "any method" } as const;

function describeMatcher(m: { method?: string | undefined; path?: string | undefined; query?: Record<string, unknown> | undefined }): string {
  const query = m.query === undefined ? "" : `?${Object.keys(m.query).map((k) => `${k}=…`).join("&")}`;
  return `${m.method ?? "*"} ${m.path ?? "/**"}${query}`;
}

/**
 * What one endpoint lets through, from its rules rather than from prose: a description can
 * promise "no DELETE" while a rule allows `POST /graphql`; this line cannot.
 */
export function endpointPermits(endpoint: Endpoint): string {
  const where = endpointDestinations(endpoint).join(", ");
  if (endpoint.protocol !== "rest") return `${where}: any traffic (not inspected)`;
  const allowed = endpoint.access !== undefined ? ACCESS_METHODS[endpoint.access] : (endpoint.rules ?? []).map((r) => describeMatcher(r.allow)).join(", ") || "nothing";
  const scope = endpoint.path === undefined ? "" : ` under ${endpoint.path}`;
  const denied = (endpoint.deny_rules ?? []).map(describeMatcher);
  const audit = endpoint.enforcement === "audit" ? " (audit only: not enforced)" : "";
  return `${where}: ${allowed}${scope}${denied.length > 0 ? `; never ${denied.join(", ")}` : ""}${audit}`;
}

/** Loads every `*.yaml` preset in `dir`, sorted by name. Throws PolicyError listing every invalid file. */
export async function listPresets(dir: string = presetsDir()): Promise<PresetInfo[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith(".yaml")).sort();
  const presets: PresetInfo[] = [];
  const issues: PolicyIssue[] = [];
  for (const file of files) {
    try {
      presets.push(await readPreset(join(dir, file)));
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new PolicyError(issues);
  return presets;
}

/** Loads one preset by name from `dir`. Throws PolicyError when it is missing or invalid. */
export async function loadPreset(name: string, dir: string = presetsDir()): Promise<PresetInfo> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new PolicyError([{ file: dir, line: 1, column: 1, field: "(document)", message: `"${name}" is not a preset name` }]);
  }
  const path = join(dir, `${name}.yaml`);
  if (!existsSync(path)) {
    const available = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith(".yaml")).map((f) => basename(f, ".yaml")) : [];
    const list = available.length > 0 ? `available: ${available.sort().join(", ")}` : `no presets in ${dir}`;
    throw new PolicyError([{ file: path, line: 1, column: 1, field: "(document)", message: `no preset named "${name}"; ${list}` }]);
  }
  return readPreset(path);
}

async function readPreset(path: string): Promise<PresetInfo> {
  const { policy, warnings } = await loadPresetFile(path);
  return {
    name: basename(path, ".yaml"),
    description: presetDescription(policy),
    file: path,
    allows: presetAllows(policy),
    permits: Object.values(policy.network_policies).flatMap((np) => (np.endpoints ?? []).map(endpointPermits)),
    policies: Object.keys(policy.network_policies),
    preset: policy,
    warnings,
  };
}
