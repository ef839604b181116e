// The Docker container configuration of a sandbox: every isolation setting in
// one pure function, so what a sandbox gets can be read (and tested) in one
// place.
//
// Process layout inside the container:
//   PID 1  docker-init (tini), root with only CAP_SETUID and CAP_SETGID
//   └─ landlock-exec --uid 1000 --gid 1000 --ro … --rw … -- <command>
//      drops to uid/gid 1000 (which empties every capability set), sets
//      no_new_privs, applies Landlock, then execs the workload.
// The container starts as root rather than as 1000 so that PID 1 belongs to a
// different user than the workload: the workload then cannot read
// /proc/1/environ, /proc/1/mem or signal PID 1, which it could if both ran as
// 1000. Root here holds no other capability, and the bounding set limits what
// anything in the container can ever regain to those two.
import type Docker from "dockerode";
import { LAUNCHER_PATH } from "./image.js";
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
  /** Absolute host path. */
  source: string;
  /** Absolute path inside the sandbox. Always mounted read-only. */
  target: string;
}

export interface SandboxLimits {
  memoryBytes: number;
  /** CPUs in units of 1e-9 (Docker's NanoCpus): 1 CPU = 1e9. */
  nanoCpus: number;
  pids: number;
  tmpfsBytes: number;
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
}

export const SANDBOX_LABEL = "nemoclaw.sandbox";
export const SANDBOX_ENV_MARKER = "NEMOCLAW_SANDBOX";
export const SANDBOX_HOME = "/sandbox";
export const RUNTIME_DIR = "/run/nemoclaw";

export const DEFAULT_USER: SandboxUser = { uid: 1000, gid: 1000 };

export const DEFAULT_LIMITS: SandboxLimits = {
  memoryBytes: 2 * 1024 ** 3,
  nanoCpus: 1e9,
  pids: 512,
  tmpfsBytes: 256 * 1024 ** 2,
};

/** What the workload may touch when the policy does not say otherwise. */
export const DEFAULT_LANDLOCK: LandlockOptions = {
  readOnly: ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev", RUNTIME_DIR],
  readWrite: [SANDBOX_HOME, "/tmp", "/dev/null"],
  compatibility: "best_effort",
};

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const RFC1123_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function assertSandboxName(name: string): void {
  if (!RFC1123_LABEL.test(name)) {
    throw new Error(
      `invalid sandbox name "${name}": use 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit (RFC 1123 label)`,
    );
  }
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

/** Engine API field (API >= 1.41) that @types/dockerode does not list yet. */
type HostConfigWithCgroupns = Docker.HostConfig & { CgroupnsMode: "private" | "host" };

/** The `docker.createContainer` options for one sandbox. */
export function buildContainerSpec(options: SandboxSpecOptions): Docker.ContainerCreateOptions {
  assertSandboxName(options.name);
  const user = options.user ?? DEFAULT_USER;
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const mounts = options.mounts ?? [];
  assertAbsolute("mount source", mounts.map((m) => m.source));
  assertAbsolute("mount target", mounts.map((m) => m.target));
  const seccomp = options.seccomp ?? buildSeccompProfile();

  const env: Record<string, string> = { ...options.env };
  for (const key of Object.keys(env)) {
    if (!ENV_NAME.test(key)) throw new Error(`invalid environment variable name "${key}"`);
  }
  Object.assign(env, { PATH, HOME: SANDBOX_HOME, [SANDBOX_ENV_MARKER]: "1" });

  const landlock = options.landlock === undefined ? DEFAULT_LANDLOCK : options.landlock;
  const supervised = landlock !== false;
  const argv = supervised
    ? landlockCommand(
        options.command,
        { ...landlock, readOnly: [...landlock.readOnly, ...mounts.map((m) => m.target)] },
        user,
      )
    : [...options.command];

  const hostConfig: HostConfigWithCgroupns = {
    NetworkMode: "none",
    // resolv.conf would otherwise name the host's resolver; nothing answers on loopback.
    Dns: ["127.0.0.1"],
    // Hides the host's cgroup paths (and with them the container id) from /proc/self/cgroup.
    CgroupnsMode: "private",
    ReadonlyRootfs: true,
    Privileged: false,
    CapDrop: ["ALL"],
    // Only for the root stage to become the workload user; see the top of the file.
    CapAdd: supervised ? ["SETUID", "SETGID"] : [],
    SecurityOpt: ["no-new-privileges:true", seccompSecurityOpt(seccomp)],
    Init: true,
    IpcMode: "private",
    Tmpfs: { "/tmp": `rw,nosuid,nodev,size=${limits.tmpfsBytes},mode=1777` },
    Mounts: [
      { Type: "volume", Source: options.volume ?? sandboxVolumeName(options.name), Target: SANDBOX_HOME },
      ...mounts.map((m) => ({ Type: "bind" as const, Source: m.source, Target: m.target, ReadOnly: true })),
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
    Entrypoint: argv,
    Cmd: [],
    WorkingDir: SANDBOX_HOME,
    User: supervised ? "0:0" : `${user.uid}:${user.gid}`,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { [SANDBOX_LABEL]: options.name },
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
}

/**
 * The `container.exec` options for running a command in a live sandbox
 * (`exec`, `connect`). An exec'd process starts as the container's user —
 * root, holding CAP_SETUID/CAP_SETGID, outside Landlock — so it must go
 * through the launcher like the workload; never exec a bare command.
 */
export function buildExecSpec(options: SandboxExecOptions): Docker.ExecCreateOptions {
  return {
    Cmd: landlockCommand(options.command, options.landlock ?? DEFAULT_LANDLOCK, options.user ?? DEFAULT_USER),
    User: "0:0",
    WorkingDir: SANDBOX_HOME,
    Tty: options.tty ?? false,
    AttachStdin: options.stdin ?? false,
    AttachStdout: true,
    AttachStderr: true,
    Privileged: false,
  };
}
