// What `create` decides before it makes anything: that the name is free (no record, container or
// volume of it), and the sandbox's record — policy, image, staged OpenClaw, limits, Landlock lists,
// workload. driver.ts then writes the record and makes the container (sandbox-container.ts).
import path from "node:path";
import type Docker from "dockerode";
import type { Policy } from "../policy/schema.js";
import { stagedVolumesFile } from "../state/paths.js";
import { RuntimeError } from "../state/runtime-error.js";
import { DEFAULT_LIMITS, GATEWAY_LIMITS, sandboxContainerName, sandboxVolumeName, type SandboxLimits } from "./container-spec.js";
import { sandboxDiskVolumeName } from "./disk.js";
import { isNotFound } from "./docker-client.js";
import { gatewayCommand, GATEWAY_ENV, GATEWAY_PORT } from "./gateway-inside.js";
import { ensureImage, type Progress } from "./image.js";
import { OPENCLAW_NODE_MODULES, openclawClosure, stageOpenclaw } from "./openclaw-stage.js";
import type { SandboxRegistry, SandboxRecord } from "./registry.js";
import { composePolicy, sandboxSettings, staticSections } from "./sandbox-policy.js";

/** The default workload until launch interception runs `openclaw gateway`: idle, forever. */
export const IDLE_COMMAND = ["sleep", "infinity"];

export interface CreateOptions {
  name: string;
  baseImage: string;
  /** --policy FILE; default the shipped base policy. */
  policyFile?: string | undefined;
  presets?: readonly string[];
  /** diskBytes 0: /sandbox without a size limit. */
  limits?: Partial<SandboxLimits>;
  /** Root of the host's `openclaw` package: it and its production dependencies are staged read-only. */
  openclawDir?: string | undefined;
  command?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Run OpenClaw's gateway as the workload (needs openclawDir); tools in their own domain. */
  gateway?: boolean;
  /** The gateway's token (the operator's own, hostGatewayToken); default: a new random one. */
  gatewayToken?: string | undefined;
}

/** Refuses a name that is recorded, or whose container or volumes exist (another state dir's, or left behind). */
export async function assertNameFree(docker: Docker, registry: SandboxRegistry, name: string): Promise<void> {
  // Asked at once (each is an Engine API round trip); refused in this order.
  const volumeNames = [sandboxVolumeName(name), sandboxDiskVolumeName(name)];
  const exists = (p: Promise<unknown>) => p.then(() => true, (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)));
  const [recorded, container, ...volumes] = await Promise.all([
    registry.exists(name),
    exists(docker.getContainer(sandboxContainerName(name)).inspect()),
    ...volumeNames.map((volumeName) => docker.getVolume(volumeName).inspect().then(() => true, () => false)),
  ]);
  if (recorded) {
    throw new RuntimeError("sandbox-exists", `a sandbox named "${name}" already exists`, `use it (\`openclaw nemoclaw ${name} start\`) or pick another name`);
  }
  if (container) {
    throw new RuntimeError(
      "container-exists",
      `a container named ${sandboxContainerName(name)} exists but no sandbox "${name}" is recorded in ${registry.stateDir}`,
      `it belongs to another nemoclaw state directory or was left behind; remove it (\`docker rm -f ${sandboxContainerName(name)}\`) or pick another name`,
    );
  }
  for (const [i, volumeName] of volumeNames.entries()) {
    if (volumes[i]) {
      throw new RuntimeError(
        "volume-exists",
        `the volume ${volumeName} already exists: it may hold another sandbox's /sandbox`,
        `remove it (\`docker volume rm ${volumeName}\`) if you do not need it, or pick another name`,
      );
    }
  }
}

/** The new sandbox's record and its composed policy; the image is built and OpenClaw staged on the way. */
export async function planSandbox(
  docker: Docker,
  name: string,
  options: CreateOptions,
  where: { remote: boolean; dockerHost: string | undefined; stateDir: string },
  progress: Progress,
): Promise<{ record: SandboxRecord; policy: Policy; presets: string[] }> {
  progress("policy", options.policyFile ? `loading ${options.policyFile}` : "loading the base policy");
  const presets = [...(options.presets ?? [])];
  const { policy } = await composePolicy(options.policyFile, presets);
  const settings = sandboxSettings(policy);

  progress("image", `sandbox image on ${options.baseImage}`);
  const image = await ensureImage(docker, options.baseImage, progress);

  const mounts: SandboxRecord["mounts"] = [];
  let openclaw: SandboxRecord["openclaw"] = null;
  if (options.openclawDir) {
    const closure = await openclawClosure(path.resolve(options.openclawDir));
    progress("openclaw", `staging OpenClaw ${closure.version} and its ${closure.packages.length - 1} production dependencies (read-only volume)`);
    mounts.push({ source: await stageOpenclaw(docker, image, closure, stagedVolumesFile(where.stateDir)), target: OPENCLAW_NODE_MODULES, volume: true });
    openclaw = { hostDir: path.resolve(options.openclawDir), version: closure.version, entry: closure.entry };
  }
  if (options.gateway && !openclaw) {
    throw new RuntimeError("openclaw-missing", "a gateway sandbox runs OpenClaw, but OpenClaw's package was not found", "install OpenClaw next to nemoclaw (`npm install -g openclaw`) and try again");
  }
  const limits = { ...DEFAULT_LIMITS, ...(options.gateway ? GATEWAY_LIMITS : {}), ...options.limits };
  if (!Number.isInteger(limits.diskBytes) || limits.diskBytes < 0 || (limits.diskBytes > 0 && limits.diskBytes < 16 * 1024 ** 2)) {
    throw new RuntimeError("bad-disk-quota", `a /sandbox quota of ${limits.diskBytes} bytes is not usable`, "give at least 16 MiB, or 0 for no quota");
  }
  const record: SandboxRecord = {
    version: 1,
    name,
    createdAt: new Date().toISOString(),
    image,
    baseImage: options.baseImage,
    policySource: options.policyFile ? path.resolve(options.policyFile) : "base",
    presets,
    appliedStatic: staticSections(policy),
    limits,
    user: settings.user,
    // The gateway's domain may bind its one port (nothing else in the sandbox may bind) and
    // connect to it: the `/nemoclaw` chat command decides through the gateway's own approval
    // API on loopback. The tools' domain, nested in it, connects to the forwarder only.
    landlock: options.gateway ? { ...settings.landlock, bindTcp: [GATEWAY_PORT], connectTcp: [...settings.landlock.connectTcp, GATEWAY_PORT] } : settings.landlock,
    mounts,
    openclaw,
    command: options.gateway && openclaw ? gatewayCommand(openclaw.entry) : [...(options.command ?? IDLE_COMMAND)],
    env: { ...options.env, ...(options.gateway ? GATEWAY_ENV : {}) },
    gateway: options.gateway ? { port: GATEWAY_PORT } : null,
    remote: where.remote ? (where.dockerHost ? { dockerHost: where.dockerHost } : {}) : null,
  };
  return { record, policy, presets };
}
