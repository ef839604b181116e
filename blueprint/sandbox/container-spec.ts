// The Docker container configuration of a sandbox: every isolation setting in
// one pure function, so what a sandbox gets can be read (and tested) in one
// place.
//
// Process layout inside the container (with `supervisor`, as the driver runs it):
//   PID 1  docker-init (tini), root with CAP_SETUID, CAP_SETGID, CAP_SETPCAP only
//   └─ node supervisor.js        names the callers of the loopback forwarder
//      ├─ egress-forwarder       127.0.0.1:3128 → proxy.sock (C, relays bytes)
//      └─ landlock-exec --uid 1000 --gid 1000 --ro … --rw … -- <command>
//         empties the bounding/ambient/inheritable capability sets, drops to
//         uid/gid 1000 (which empties the rest), sets no_new_privs, applies
//         Landlock, then execs the workload.
// Without `supervisor` the launcher is the entrypoint itself (red-team tests
// use that to isolate one layer at a time).
// The container starts as root rather than as 1000 so that PID 1 and the
// supervisor belong to a different user than the workload: the workload then
// cannot read their /proc/<pid>/environ or /proc/<pid>/mem or signal them,
// which it could if they ran as 1000. Root here holds no other capability,
// and the launcher empties the bounding set before the workload starts.
import path from "node:path";
import type Docker from "dockerode";
import { SANDBOX_NAME_RULE, SandboxNameSchema } from "../state/sandbox-name.js";
import type { GatewaySupervisorConfig } from "../supervisor/gateway-relay.js";
import type { WorkloadSeed } from "../supervisor/workload-seed.js";
import { GATEWAY_RESTART } from "../supervisor/restart-policy.js";
import { FORWARDER_PROGRAM, LAUNCHER_PATH } from "./image.js";
import { buildSeccompProfile, seccompSecurityOpt, type SeccompProfile } from "./seccomp.js";

export type LandlockCompatibility = "best_effort" | "hard_requirement";

export interface LandlockOptions {
  readOnly: readonly string[];
  readWrite: readonly string[];
  /** hard_requirement refuses to start the workload on a kernel without Landlock. */
  compatibility: LandlockCompatibility;
  /** TCP ports the workload may connect to (e.g. the loopback forwarder). Default: none. */
  connectTcp?: readonly number[];
  /** TCP ports the workload may listen on. Default: none. */
  bindTcp?: readonly number[];
}

export interface SandboxMount {
  /** Absolute host path (a bind mount), or a volume's name with `volume: true`. */
  source: string;
  /** Absolute path inside the sandbox. Mounted read-only unless `writable`. */
  target: string;
  /** A named volume (staged content: its host path does not show inside), not a host folder. */
  volume?: boolean;
  /** A volume root inside may write to (a remote sandbox's /run/nemoclaw: the engine relay's socket). */
  writable?: boolean;
}

export interface SandboxLimits {
  memoryBytes: number;
  /** CPUs in units of 1e-9 (Docker's NanoCpus): 1 CPU = 1e9. */
  nanoCpus: number;
  pids: number;
  tmpfsBytes: number;
  /** Size limit of /sandbox (an ext4 image, see disk.ts); 0 for none (a plain volume). */
  diskBytes: number;
}

export interface SandboxUser {
  uid: number;
  gid: number;
}

export interface SandboxSpecOptions {
  /** Sandbox name, an RFC 1123 label. */
  name: string;
  image: string;
  /** The workload's argv. */
  command: readonly string[];
  /**
   * Landlock lists; mount targets are added to readOnly. `false` runs the
   * command without the launcher, directly as `user`, with no root stage.
   */
  landlock?: LandlockOptions | false;
  user?: SandboxUser;
  mounts?: readonly SandboxMount[];
  /** Variables the configuration names; nothing from the host's environment is passed otherwise. */
  env?: Readonly<Record<string, string>>;
  limits?: Partial<SandboxLimits>;
  seccomp?: SeccompProfile;
  /** Named volume for /sandbox. Default: sandboxVolumeName(name). */
  volume?: string;
  /**
   * Run the supervisor (forwarder + launcher) as the entrypoint. `script` is
   * its path inside the container; its directory must be among `mounts`.
   * `callerSecret` (state/caller-secret.ts) goes into its configuration only.
   */
  supervisor?: {
    script: string;
    callerSecret: string;
    /** OpenClaw's config, written by the supervisor as the workload before it starts, unless it exists. */
    seed?: WorkloadSeed;
    /**
     * The workload is the OpenClaw gateway (gateway-inside.ts): the supervisor relays its port
     * over a socket in `relayDir` (host path, bind-mounted read-write at the socket's folder, in
     * no Landlock list). Without `relayDir` (a remote engine) that folder
     * is a root-only tmpfs and the engine relay carries the socket to the host.
     */
    gateway?: { relayDir?: string; config: GatewaySupervisorConfig };
  };
  /** Container labels besides the sandbox label. */
  labels?: Readonly<Record<string, string>>;
}

export const SANDBOX_LABEL = "nemoclaw.sandbox";
export const SANDBOX_ENV_MARKER = "NEMOCLAW_SANDBOX";
export const SANDBOX_HOME = "/sandbox";
export const RUNTIME_DIR = "/run/nemoclaw";
/** The host runtime's socket, the sandbox's only way out; only the supervisor may connect. */
export const PROXY_SOCKET = `${RUNTIME_DIR}/proxy.sock`;
/** The loopback forwarder the workload's HTTP(S)_PROXY points at. */
export const FORWARDER_HOST = "127.0.0.1";
export const FORWARDER_PORT = 3128;
export const PROXY_URL = `http://${FORWARDER_HOST}:${FORWARDER_PORT}`;
/** Where the plugin's dist/blueprint is mounted read-only (the supervisor runs from there). */
export const BLUEPRINT_MOUNT = "/opt/nemoclaw";
export const SUPERVISOR_SCRIPT = `${BLUEPRINT_MOUNT}/supervisor/supervisor.js`;
export const NODE_PATH = "/usr/local/bin/node";

export const DEFAULT_USER: SandboxUser = { uid: 1000, gid: 1000 };

export const DEFAULT_LIMITS: SandboxLimits = {
  memoryBytes: 2 * 1024 ** 3,
  nanoCpus: 1e9,
  pids: 512,
  tmpfsBytes: 256 * 1024 ** 2,
  diskBytes: 10 * 1024 ** 3,
};

/**
 * A gateway sandbox runs OpenClaw's gateway and its agents' tools side by side: the gateway idles
 * near 1 GiB and peaks well above during start-up and turns, and on one CPU its start-up alone
 * takes minutes on a loaded machine. Still limits, just sized for that workload.
 */
export const GATEWAY_LIMITS: Pick<SandboxLimits, "memoryBytes" | "nanoCpus"> = {
  memoryBytes: 4 * 1024 ** 3,
  nanoCpus: 2e9,
};

/** What the workload may touch when the policy does not say otherwise. */
export const DEFAULT_LANDLOCK: LandlockOptions = {
  readOnly: ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev", RUNTIME_DIR],
  readWrite: [SANDBOX_HOME, "/tmp", "/dev/null"],
  compatibility: "best_effort",
};

export const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function assertSandboxName(name: string): void {
  if (!SandboxNameSchema.safeParse(name).success) throw new Error(`invalid sandbox name "${name}": ${SANDBOX_NAME_RULE}`);
}

export function sandboxContainerName(name: string): string {
  return `nemoclaw-${name}`;
}

export function sandboxVolumeName(name: string): string {
  return `nemoclaw-${name}-sandbox`;
}

function assertAbsolute(kind: string, paths: readonly string[]): void {
  for (const p of paths) {
    // The launcher reads any word starting with "--" as an option.
    if (!p.startsWith("/")) throw new Error(`${kind} path must be absolute: "${p}"`);
  }
}

function assertPorts(kind: string, ports: readonly number[]): void {
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${kind}: not a TCP port: ${port}`);
  }
}

/** argv that runs `command` as `user` under Landlock through the launcher. */
export function landlockCommand(
  command: readonly string[],
  landlock: LandlockOptions,
  user: SandboxUser = DEFAULT_USER,
  launcher: string = LAUNCHER_PATH,
): string[] {
  assertAbsolute("landlock read_only", landlock.readOnly);
  assertAbsolute("landlock read_write", landlock.readWrite);
  const connect = landlock.connectTcp ?? [];
  const bind = landlock.bindTcp ?? [];
  assertPorts("landlock connect_tcp", connect);
  assertPorts("landlock bind_tcp", bind);
  if (command.length === 0) throw new Error("sandbox command is empty");

  const argv = [
    launcher,
    landlock.compatibility === "hard_requirement" ? "--hard-requirement" : "--best-effort",
    "--uid",
    String(user.uid),
    "--gid",
    String(user.gid),
  ];
  if (landlock.readOnly.length > 0) argv.push("--ro", ...landlock.readOnly);
  if (landlock.readWrite.length > 0) argv.push("--rw", ...landlock.readWrite);
  if (connect.length > 0) argv.push("--connect-tcp", ...connect.map(String));
  if (bind.length > 0) argv.push("--bind-tcp", ...bind.map(String));
  argv.push("--", ...command);
  return argv;
}

/**
 * The workload's whole environment: what the configuration names, then ours on top (a
 * configured PATH, HOME or proxy variable cannot point the workload elsewhere). Nothing comes
 * from the host's environment unless the caller put it in `extra`.
 */
export function workloadEnv(extra: Readonly<Record<string, string>> = {}, options: { proxy: boolean }): Record<string, string> {
  for (const key of Object.keys(extra)) {
    if (!ENV_NAME.test(key)) throw new Error(`invalid environment variable name "${key}"`);
  }
  const env: Record<string, string> = { ...extra, PATH, HOME: SANDBOX_HOME, [SANDBOX_ENV_MARKER]: "1" };
  if (options.proxy) {
    // Upper and lower case: curl and others read only the lower-case http_proxy.
    for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]) {
      env[name] = PROXY_URL;
      env[name.toLowerCase()] = PROXY_URL;
    }
    env.NO_PROXY = env.no_proxy = "localhost,127.0.0.1";
    // Node's fetch and http(s) honour the variables above only with this set.
    env.NODE_USE_ENV_PROXY = "1";
  }
  return env;
}

/** Engine API field (API >= 1.41) that @types/dockerode does not list yet. */
type HostConfigWithCgroupns = Docker.HostConfig & { CgroupnsMode: "private" | "host" };

/** The `docker.createContainer` options for one sandbox. */
export function buildContainerSpec(options: SandboxSpecOptions): Docker.ContainerCreateOptions {
  assertSandboxName(options.name);
  const user = options.user ?? DEFAULT_USER;
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const mounts = options.mounts ?? [];
  assertAbsolute("mount source", mounts.filter((m) => !m.volume).map((m) => m.source));
  assertAbsolute("mount target", mounts.map((m) => m.target));
  const seccomp = options.seccomp ?? buildSeccompProfile();

  const landlock = options.landlock === undefined ? DEFAULT_LANDLOCK : options.landlock;
  const launched = landlock !== false;
  const supervisor = options.supervisor;
  if (supervisor && !launched) throw new Error("the supervisor always runs the workload through the launcher; landlock cannot be false");
  const argv = launched
    ? landlockCommand(
        options.command,
        { ...landlock, readOnly: [...landlock.readOnly, ...mounts.map((m) => m.target)] },
        user,
      )
    : [...options.command];
  const env = workloadEnv(options.env, { proxy: supervisor !== undefined });
  const containerEnv: Record<string, string> = supervisor
    ? {
        PATH,
        NEMOCLAW_SUPERVISOR: JSON.stringify({
          launcher: argv,
          env,
          forwarder: { host: FORWARDER_HOST, port: FORWARDER_PORT, socket: PROXY_SOCKET, program: FORWARDER_PROGRAM },
          caller: { uid: user.uid, gid: user.gid },
          // In the supervisor's environment only: the workload's is `env`, and /proc/1/environ
          // and the supervisor's are unreadable to it (another uid; the supervisor is non-dumpable).
          secret: supervisor.callerSecret,
          // A gateway's seeded config holds its token: here, not in the workload's env.
          ...(supervisor.seed ? { seed: supervisor.seed } : {}),
          ...(supervisor.gateway ? { gateway: supervisor.gateway.config } : {}),
          // OpenClaw's gateway can fail its own start-up under load; started again like a service.
          ...(supervisor.gateway ? { restart: GATEWAY_RESTART } : {}),
        }),
      }
    : env;
  const capAdd = launched ? ["SETUID", "SETGID", "SETPCAP"] : [];

  const hostConfig: HostConfigWithCgroupns = {
    NetworkMode: "none",
    // resolv.conf would otherwise name the host's resolver; nothing answers on loopback.
    Dns: ["127.0.0.1"],
    // Hides the host's cgroup paths (and with them the container id) from /proc/self/cgroup.
    CgroupnsMode: "private",
    ReadonlyRootfs: true,
    Privileged: false,
    CapDrop: ["ALL"],
    // Only for the root stage (see the top of the file): SETUID/SETGID to become the workload
    // user (and for the supervisor to borrow its uid when it reads /proc to identify a caller),
    // SETPCAP for the launcher to empty the workload's bounding set.
    CapAdd: capAdd,
    SecurityOpt: ["no-new-privileges:true", seccompSecurityOpt(seccomp)],
    Init: true,
    IpcMode: "private",
    Tmpfs: {
      "/tmp": `rw,nosuid,nodev,size=${limits.tmpfsBytes},mode=1777`,
      ...(supervisor?.gateway && !supervisor.gateway.relayDir ? { [path.posix.dirname(supervisor.gateway.config.socket)]: "rw,nosuid,nodev,noexec,size=1m,mode=0700" } : {}),
    },
    Mounts: [
      { Type: "volume", Source: options.volume ?? sandboxVolumeName(options.name), Target: SANDBOX_HOME },
      ...mounts.map((m) =>
        m.volume
          ? // NoCopy: the image has nothing there to copy in, and a staged volume is filled once.
            // (@types/dockerode marks the optional Labels and DriverConfig as required.)
            { Type: "volume" as const, Source: m.source, Target: m.target, ReadOnly: !m.writable, VolumeOptions: { NoCopy: true } as Docker.MountSettings["VolumeOptions"] }
          : { Type: "bind" as const, Source: m.source, Target: m.target, ReadOnly: true },
      ),
      ...(supervisor?.gateway?.relayDir
        ? [{ Type: "bind" as const, Source: supervisor.gateway.relayDir, Target: path.posix.dirname(supervisor.gateway.config.socket), ReadOnly: false }]
        : []),
    ],
    Memory: limits.memoryBytes,
    // Same as Memory: no swap on top of the limit.
    MemorySwap: limits.memoryBytes,
    NanoCpus: limits.nanoCpus,
    PidsLimit: limits.pids,
    // Under host memory pressure the sandbox goes before host processes.
    OomScoreAdj: 500,
    // No core files: they would copy process memory into /sandbox or /tmp.
    Ulimits: [{ Name: "core", Soft: 0, Hard: 0 }],
    // The agent's stdout must not be able to fill the host's disk.
    LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
    RestartPolicy: { Name: "no" },
  };

  return {
    name: sandboxContainerName(options.name),
    Image: options.image,
    Hostname: options.name,
    // The image bakes no entrypoint; setting it here also keeps the base
    // image's (e.g. docker-entrypoint.sh in the official one) out.
    Entrypoint: supervisor ? [NODE_PATH, supervisor.script] : argv,
    Cmd: [],
    WorkingDir: SANDBOX_HOME,
    User: launched ? "0:0" : `${user.uid}:${user.gid}`,
    Env: Object.entries(containerEnv).map(([k, v]) => `${k}=${v}`),
    Labels: { ...options.labels, [SANDBOX_LABEL]: options.name },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    HostConfig: hostConfig,
  };
}

export interface SandboxExecOptions {
  command: readonly string[];
  /** The sandbox's Landlock lists (as given to buildContainerSpec, mount targets included). */
  landlock?: LandlockOptions;
  user?: SandboxUser;
  tty?: boolean;
  stdin?: boolean;
  /**
   * The whole environment of the command (see workloadEnv). Given, the command starts from an
   * empty environment (`env -i`) instead of inheriting the container's, which holds the
   * supervisor's configuration.
   */
  env?: Readonly<Record<string, string>>;
  workingDir?: string;
}

/**
 * The `container.exec` options for running a command in a live sandbox
 * (`exec`, `connect`). An exec'd process starts as the container's user —
 * root, holding CAP_SETUID/CAP_SETGID, outside Landlock — so it must go
 * through the launcher like the workload; never exec a bare command.
 */
export function buildExecSpec(options: SandboxExecOptions): Docker.ExecCreateOptions {
  const argv = landlockCommand(options.command, options.landlock ?? DEFAULT_LANDLOCK, options.user ?? DEFAULT_USER);
  const env = options.env;
  return {
    Cmd: env ? ["/usr/bin/env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv] : argv,
    User: "0:0",
    WorkingDir: options.workingDir ?? SANDBOX_HOME,
    Tty: options.tty ?? false,
    AttachStdin: options.stdin ?? false,
    AttachStdout: true,
    AttachStderr: true,
    Privileged: false,
  };
}
