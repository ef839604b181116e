// A sandbox's policy: the base policy (or --policy FILE) with presets merged in, and what its
// static sections mean for the container (Landlock lists, the workload's uid/gid).
import { formatIssue, loadPolicyFile, parsePolicy, PolicyError } from "../policy/load.js";
import { MergeConflictError, mergePresets } from "../policy/merge.js";
import { basePolicyPath, loadPreset } from "../policy/presets.js";
import { type Policy } from "../policy/schema.js";
import { changedSections, STATIC_SECTIONS } from "../policy/diff.js";
import { serializePolicy } from "../policy/serialize.js";
import { RuntimeError } from "../state/runtime-error.js";
import { DEFAULT_LANDLOCK, DEFAULT_USER, FORWARDER_PORT, SANDBOX_HOME, type LandlockOptions, type SandboxUser } from "./container-spec.js";

/** Turns the policy layer's located errors into a runtime error the plugin renders line by line. */
export function policyFailure(e: unknown, what: string): never {
  if (e instanceof PolicyError) {
    throw new RuntimeError("policy-invalid", `${what} is not valid`, "fix the lines above and try again", e.issues.map(formatIssue));
  }
  if (e instanceof MergeConflictError) throw new RuntimeError("policy-conflict", e.message, "drop one of the conflicting presets");
  throw e;
}

/** A composed policy and what loading it said: the presets used and the warnings of every file. */
export interface ComposedPolicy {
  policy: Policy;
  presets: string[];
  warnings: string[];
}

/** Loads `file` (default: the shipped base policy) and merges the presets into it. */
export async function composePolicy(file: string | undefined, presets: readonly string[]): Promise<ComposedPolicy> {
  const source = file ?? basePolicyPath();
  try {
    const base = await loadPolicyFile(source);
    const loaded = await Promise.all(presets.map((name) => loadPreset(name)));
    const { policy } = mergePresets(
      { source, policy: base.policy },
      loaded.map((p) => ({ source: `preset ${p.name}`, policy: p.preset })),
    );
    return {
      policy,
      presets: loaded.map((p) => p.name),
      warnings: [...base.warnings, ...loaded.flatMap((p) => p.warnings)].map(formatIssue),
    };
  } catch (e) {
    policyFailure(e, file ?? "the base policy");
  }
}

export function readStoredPolicy(text: string, file: string): Policy {
  try {
    return parsePolicy(text, { file }).policy;
  } catch (e) {
    policyFailure(e, file);
  }
}

export function policyText(policy: Policy, name: string, source: string, presets: readonly string[]): string {
  return serializePolicy(policy, {
    header: [
      ` Policy of sandbox ${name}: ${source === "base" ? "the nemoclaw base policy" : source}${presets.length ? ` + presets ${presets.join(", ")}` : ""}.`,
      " filesystem_policy, landlock and process are fixed when the sandbox is created (changing them",
      " means recreating it); network_policies can change while it runs.",
    ].join("\n"),
  });
}

/** The static sections, as stored in the sandbox record. */
export function staticSections(policy: Policy): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const section of STATIC_SECTIONS) if (policy[section] !== undefined) out[section] = policy[section];
  return out;
}

/** Names of the static sections that differ; non-empty means the sandbox must be recreated. */
export function staticChanges(applied: Record<string, unknown>, policy: Policy): string[] {
  return changedSections({ version: 1, ...applied } as Policy, policy).static;
}

function numericId(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "sandbox") return fallback;
  return Number(value);
}

/** What the supervisor applies: Landlock lists and the workload's identity. */
export function sandboxSettings(policy: Policy): {
  landlock: Required<Omit<LandlockOptions, "readOnly" | "readWrite" | "connectTcp" | "bindTcp">> & {
    readOnly: string[];
    readWrite: string[];
    connectTcp: number[];
    bindTcp: number[];
  };
  user: SandboxUser;
} {
  const fs = policy.filesystem_policy;
  const readWrite = [...(fs?.read_write ?? DEFAULT_LANDLOCK.readWrite)];
  if (fs?.include_workdir && !readWrite.includes(SANDBOX_HOME)) readWrite.push(SANDBOX_HOME);
  return {
    landlock: {
      readOnly: [...(fs?.read_only ?? DEFAULT_LANDLOCK.readOnly)],
      readWrite,
      compatibility: policy.landlock?.compatibility ?? "best_effort",
      // The forwarder is the workload's only TCP destination.
      connectTcp: [FORWARDER_PORT],
      bindTcp: [],
    },
    user: {
      uid: numericId(policy.process?.run_as_user, DEFAULT_USER.uid),
      gid: numericId(policy.process?.run_as_group, DEFAULT_USER.gid),
    },
  };
}
