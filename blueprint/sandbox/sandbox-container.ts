// A sandbox's container, made from its record: the staged supervisor, OpenClaw and the run dir
// mounted, the caller secret and the sandbox's CA in place, and for a gateway sandbox the relay
// folder and the seeded OpenClaw config. `create` makes it the first time and `start` again when
// the container is gone (driver.ts); `exec` gives its commands the same mount targets.
import { chmod, mkdir } from "node:fs/promises";
import type Docker from "dockerode";
import { ensureCallerSecret } from "../state/caller-secret.js";
import { sandboxRunDir, stagedVolumesFile } from "../state/paths.js";
import { compiledBlueprintDir, runtimeIdentity } from "../state/runtime-files.js";
import type { GatewaySupervisorConfig } from "../supervisor/gateway-relay.js";
import type { WorkloadSeed } from "../supervisor/workload-seed.js";
import { BLUEPRINT_MOUNT, buildContainerSpec, RUNTIME_DIR, SUPERVISOR_SCRIPT, type SandboxMount } from "./container-spec.js";
import { ensureGatewayToken, gatewayConfig, GATEWAY_CONFIG, GATEWAY_PORT, GATEWAY_RELAY_SOCKET, hostRelayDir } from "./gateway-inside.js";
import type { GatewayModels } from "./gateway-models.js";
import { openclawProxySeed } from "./openclaw-stage.js";
import { assertWorkloadUidFree } from "./proxy-guard.js";
import type { SandboxRecord } from "./registry.js";
import { ensureRunVolume, putTrustFiles } from "./remote-run.js";
import { ensureStagedVolume } from "./staged-volume.js";
import { installSandboxTrust, TRUST_ENV } from "./trust.js";

/** On every container and /sandbox volume: which state dir it belongs to (uninstall and gc go by it). */
export const STATE_DIR_LABEL = "nemoclaw.state-dir";

/**
 * Promise.all that lets every step finish before it rejects: a create that fails cleans up what
 * it made, and a step still running would make its part after that cleanup (a container or a
 * volume left behind).
 */
export async function allSettled<T extends readonly unknown[] | []>(steps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(steps);
  for (const r of results) if (r.status === "rejected") throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** The staged supervisor's volume: one per sealed build, as the supervisor must match the runtime. */
export function supervisorVolumeName(): string {
  return `nemoclaw-runtime-${runtimeIdentity().digest.slice(0, 16)}`;
}

/**
 * The supervisor (this build's staged volume) at /opt/nemoclaw, the record's mounts (OpenClaw)
 * and the sandbox's run dir (the proxy socket) at /run/nemoclaw.
 */
export function sandboxMounts(stateDir: string, record: SandboxRecord, supervisorVolume: string, runVolume: string | undefined): SandboxMount[] {
  return [
    { source: supervisorVolume, target: BLUEPRINT_MOUNT, volume: true },
    ...record.mounts,
    runVolume ? { source: runVolume, target: RUNTIME_DIR, volume: true, writable: true } : { source: sandboxRunDir(stateDir, record.name), target: RUNTIME_DIR },
  ];
}

export interface ContainerContext {
  docker: Docker;
  stateDir: string;
  /** The model providers a gateway sandbox's seeded OpenClaw config carries. */
  gatewayModels: (name: string) => Promise<GatewayModels | undefined>;
  /** Labels for the volumes it makes (the remote run volume). */
  volumeLabels: Record<string, string>;
}

/**
 * Creates (does not start) the sandbox's container from its record. `sandboxVolume` is /sandbox's
 * volume being made (a quota's disk helper takes a container start, ~0.3 s): everything else the
 * container needs is made meanwhile, and the container once it is there.
 */
export async function createSandboxContainer(ctx: ContainerContext, record: SandboxRecord, sandboxVolume: Promise<unknown> = Promise.resolve()): Promise<void> {
  // The sandbox's CA goes into the run dir, which is read once the container runs: it is made
  // while the container is (a remote engine's run volume gets a copy once both are done).
  // The volume is in this list too, so it has settled before this returns or throws whatever
  // failed first: a failed create never cleans up while it is still being made.
  const [, made] = await allSettled([installSandboxTrust(ctx.stateDir, record.name), makeContainer(ctx, record, sandboxVolume), sandboxVolume]);
  if (made.runVolume) await putTrustFiles(made.container, ctx.stateDir, record.name);
}

async function makeContainer(ctx: ContainerContext, record: SandboxRecord, sandboxVolume: Promise<unknown>): Promise<{ container: Docker.Container; runVolume: string | undefined }> {
  const supervisorVolume = supervisorVolumeName();
  // Independent of each other: done at once; the container is made once /sandbox's volume is there.
  const [, , , runVolume, callerSecret] = await allSettled([
    assertWorkloadUidFree(ctx.docker, record.user),
    sandboxVolume,
    ensureStagedVolume(ctx.docker, { name: supervisorVolume, kind: "supervisor", image: record.image, cwd: compiledBlueprintDir(), entries: ["supervisor"], memo: stagedVolumesFile(ctx.stateDir) }),
    record.remote ? ensureRunVolume(ctx.docker, record.name, ctx.volumeLabels) : undefined,
    ensureCallerSecret(ctx.stateDir, record.name),
  ]);
  const container = await ctx.docker.createContainer(
    buildContainerSpec({
      name: record.name,
      image: record.image,
      command: record.command,
      landlock: record.landlock,
      user: record.user,
      mounts: sandboxMounts(ctx.stateDir, record, supervisorVolume, runVolume),
      env: { ...TRUST_ENV, ...record.env },
      limits: record.limits,
      supervisor: {
        script: SUPERVISOR_SCRIPT,
        callerSecret,
        // OpenClaw's config: the gateway's own, or (OpenClaw run by the agent) its proxy line.
        ...(record.gateway ? await gatewaySupervisor(ctx, record) : record.openclaw ? { seed: openclawProxySeed() } : {}),
      },
      labels: { [STATE_DIR_LABEL]: ctx.stateDir },
    }),
  );
  return { container, runVolume };
}

/**
 * The relay folder (0700, ours: locally the supervisor makes the socket in it with our uid, for
 * a remote engine the daemon does, carried by the engine relay) and the seeded config.
 */
async function gatewaySupervisor(ctx: ContainerContext, record: SandboxRecord): Promise<{ gateway: { relayDir?: string; config: GatewaySupervisorConfig }; seed: WorkloadSeed }> {
  const relayDir = hostRelayDir(sandboxRunDir(ctx.stateDir, record.name));
  await mkdir(relayDir, { recursive: true, mode: 0o700 });
  await chmod(relayDir, 0o700);
  const token = await ensureGatewayToken(ctx.stateDir, record.name);
  const models = await ctx.gatewayModels(record.name);
  const config = { port: GATEWAY_PORT, socket: GATEWAY_RELAY_SOCKET };
  const seed = { path: GATEWAY_CONFIG, content: gatewayConfig(token, models) };
  return { gateway: record.remote ? { config } : { relayDir, config }, seed };
}
