// `<name> status`: what the record says the sandbox was created with, what Docker has in force,
// and what the layers look like from inside (blueprint/supervisor/inspect.ts, run as the
// workload). Who serves the egress path is the runtime's to say; it is passed in.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { RuntimeError } from "../state/runtime-error.js";
import { compiledBlueprintDir } from "../state/runtime-files.js";
import { sandboxPolicyFile } from "../state/paths.js";
import { NODE_PATH, type SandboxLimits } from "./container-spec.js";
import type { SandboxRecord } from "./registry.js";

export type ContainerState = "running" | "stopped" | "missing";

export interface LayerReport {
  pid: number;
  argv: string[];
  uid: number;
  gid: number;
  seccomp: number;
  seccompFilters: number;
  noNewPrivs: number;
  capEff: string;
  capPrm: string;
  capInh: string;
  capBnd: string;
  capAmb: string;
}

/** What blueprint/supervisor/inspect.ts reports from inside. */
export interface InsideReport {
  supervisor: LayerReport | null;
  /** The supervisor's egress forwarder (egress-forwarder.c). */
  forwarder: LayerReport | null;
  workload: LayerReport | null;
  self: LayerReport;
  landlock: { abi: number; probe: string; write: string };
  mounts: Array<{ target: string; type: string; options: string }>;
  proxySocket: { present: boolean; mode?: string; uid?: number; error?: string };
  environ: { supervisor: string; forwarder: string };
}

export interface SandboxStatus {
  name: string;
  state: ContainerState;
  container: string | null;
  startedAt: string | null;
  image: string;
  openclaw: string | null;
  policy: { source: string; presets: string[]; file: string };
  egress: string;
  /** What keeps the workload off proxy.sock (proxy-guard.ts). */
  proxyGuard: string;
  limits: SandboxLimits;
  inside: InsideReport | null;
}

export function containerState(info: Docker.ContainerInspectInfo | undefined): ContainerState {
  return !info ? "missing" : info.State.Running ? "running" : "stopped";
}

export async function readStatus(options: {
  stateDir: string;
  record: SandboxRecord;
  info: Docker.ContainerInspectInfo | undefined;
  /** Who serves the sandbox's egress path, in words (from the runtime). */
  egress: string;
  proxyGuard: string;
  /** Runs a command inside as the workload. */
  execCapture: (command: readonly string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;
}): Promise<SandboxStatus> {
  const { record, info } = options;
  const name = record.name;
  const base: SandboxStatus = {
    name,
    state: containerState(info),
    container: info?.Id.slice(0, 12) ?? null,
    startedAt: info?.State.Running ? info.State.StartedAt : null,
    image: record.image,
    openclaw: record.openclaw ? `${record.openclaw.version} (${record.openclaw.hostDir}, production files staged read-only)` : null,
    policy: { source: record.policySource, presets: record.presets, file: sandboxPolicyFile(options.stateDir, name) },
    egress: options.egress,
    proxyGuard: options.proxyGuard,
    limits: {
      memoryBytes: info?.HostConfig.Memory ?? record.limits.memoryBytes,
      nanoCpus: info?.HostConfig.NanoCpus ?? record.limits.nanoCpus,
      pids: info?.HostConfig.PidsLimit ?? record.limits.pids,
      tmpfsBytes: record.limits.tmpfsBytes,
      diskBytes: record.limits.diskBytes,
    },
    inside: null,
  };
  if (base.state !== "running") return base;
  // The script's text goes in as an argument rather than being run from /opt/nemoclaw: a
  // plugin upgrade stages a new copy, and a running container keeps the one it started with.
  const script = await readFile(path.join(compiledBlueprintDir(), "supervisor", "inspect.js"), "utf8");
  const out = await options.execCapture([NODE_PATH, "--input-type=module", "-e", script]);
  if (out.exitCode !== 0) {
    throw new RuntimeError("status-failed", `could not read the layers inside ${name} (exit ${out.exitCode})`, undefined, out.stderr.trim().split("\n"));
  }
  return { ...base, inside: JSON.parse(out.stdout) as InsideReport };
}
