import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import type { Request } from "./protocol.js";
import { runPreflight } from "./preflight.js";
import { RuntimeError } from "./runtime-error.js";
import { formatIssue, loadPolicyFile, PolicyError } from "../policy/load.js";
import { MergeConflictError, mergePresets } from "../policy/merge.js";
import { listPresets, loadPreset } from "../policy/presets.js";
import { endpointPorts } from "../policy/schema.js";

export type Progress = (step: string, message: string, percent?: number) => void;
type Handler<C extends Request["command"]> = (req: Extract<Request, { command: C }>, progress: Progress) => Promise<unknown>;

const version: Handler<"version"> = async () => {
  const manifest = parse(await readFile(new URL("../blueprint.yaml", import.meta.url), "utf8")) as { version: string };
  return { version: manifest.version, node: process.versions.node };
};

const doctor: Handler<"doctor"> = async (req, progress) => {
  const checks = await runPreflight(
    { stateDir: req.stateDir, dockerHost: req.dockerHost, ports: req.ports },
    (c) => progress("doctor", `${c.name}: ${c.status}`),
  );
  return { checks };
};

/** Turn the policy layer's located errors into a runtime error the plugin renders line by line. */
function policyFailure(e: unknown, what: string): never {
  if (e instanceof PolicyError) {
    throw new RuntimeError("policy-invalid", `${what} is not valid`, "fix the lines above and check again", e.issues.map(formatIssue));
  }
  if (e instanceof MergeConflictError) throw new RuntimeError("policy-conflict", e.message, "drop one of the conflicting presets");
  throw e;
}

const policyCheck: Handler<"policy.check"> = async (req) => {
  try {
    const base = await loadPolicyFile(req.file);
    const presets = await Promise.all(req.presets.map((name) => loadPreset(name)));
    const merged = mergePresets(
      { source: req.file, policy: base.policy },
      presets.map((p) => ({ source: `preset ${p.name}`, policy: p.preset })),
    );
    return {
      file: req.file,
      presets: presets.map((p) => p.name),
      warnings: [...base.warnings, ...presets.flatMap((p) => p.warnings)].map(formatIssue),
      networkPolicies: Object.entries(merged.policy.network_policies ?? {}).map(([name, np]) => ({
        name,
        endpoints: (np.endpoints ?? []).flatMap((ep) =>
          endpointPorts(ep).map((port) => `${ep.host ?? `[${(ep.allowed_ips ?? []).join(",")}]`}:${port}`),
        ),
        binaries: (np.binaries ?? []).map((b) => b.path),
      })),
    };
  } catch (e) {
    policyFailure(e, req.file);
  }
};

const policyPresets: Handler<"policy.presets"> = async () => {
  try {
    const presets = await listPresets();
    return { presets: presets.map((p) => ({ name: p.name, description: p.description, allows: p.allows })) };
  } catch (e) {
    policyFailure(e, "a shipped preset");
  }
};

export const handlers: { [C in Request["command"]]: Handler<C> } = {
  version,
  doctor,
  "policy.check": policyCheck,
  "policy.presets": policyPresets,
};
