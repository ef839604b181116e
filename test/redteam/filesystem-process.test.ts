// Escape attempts against the filesystem and process isolation of a real
// sandbox. Each case checks that the attempt fails for the reason we claim
// (the errno or message of the layer that stops it) and, where the layer could
// be mistaken for another, a control that relaxes only that layer and succeeds,
// so a sandbox that simply fails everything cannot pass.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSeccompProfile, seccompSecurityOpt } from "../../blueprint/sandbox/seccomp.js";
import { dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { parseProbe, PROBE_DIR_IN_SANDBOX, PROBE_IN_SANDBOX, probeDir, setuidProbeDir } from "../helpers/docker-probe.js";
import { runInSandbox, runNode, runShell, type RunOptions } from "../helpers/docker-run.js";
import { SHIPPED_LANDLOCK, withLandlock } from "../helpers/shipped-policy.js";

const docker = dockerClient();
let image: string;
let probeMount: { source: string; target: string };

beforeAll(async () => {
  image = await ensureSandboxImage(docker);
  probeMount = { source: await probeDir(), target: PROBE_DIR_IN_SANDBOX };
}, 900_000);

/** Control: the same sandbox with Docker's seccomp filtering switched off. */
const seccompOff = (spec: Docker.ContainerCreateOptions): void => {
  const opts = spec.HostConfig?.SecurityOpt ?? [];
  spec.HostConfig!.SecurityOpt = [...opts.filter((o: string) => !o.startsWith("seccomp=")), "seccomp=unconfined"];
};

/** Root in the container holding `caps`, no launcher: isolates what seccomp alone stops. */
const rootWith =
  (caps: string[], extra?: (spec: Docker.ContainerCreateOptions) => void) =>
  (spec: Docker.ContainerCreateOptions): void => {
    spec.User = "0:0";
    spec.HostConfig!.CapAdd = caps;
    extra?.(spec);
  };

async function probe(ops: string[], options: RunOptions = {}): Promise<Record<string, string>> {
  const result = await runInSandbox(docker, image, [PROBE_IN_SANDBOX, ...ops], {
    ...options,
    mounts: [...(options.mounts ?? []), probeMount],
  });
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  return parseProbe(result.stdout);
}

describe("filesystem", () => {
  let hostDir: string;
  beforeAll(async () => {
    hostDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-openclaw-"));
    await chmod(hostDir, 0o755);
    await writeFile(path.join(hostDir, "package.json"), "{}\n");
  });
  afterAll(async () => rm(hostDir, { recursive: true, force: true }));

  it("refuses writes to /, /etc, /usr and the mounted OpenClaw (read-only), accepts /sandbox and /tmp", async () => {
    // Landlock is opened up to everything here so that only the mounts decide.
    const script = [
      "for p in / /etc /usr /usr/local/lib/nemoclaw /opt/openclaw; do touch $p/escape 2>&1 || true; done",
      "echo kept > /sandbox/file && cat /sandbox/file",
      "echo kept > /tmp/file && cat /tmp/file",
    ].join("; ");
    const result = await runShell(docker, image, script, {
      landlock: withLandlock({ readWrite: ["/"] }),
      mounts: [{ source: hostDir, target: "/opt/openclaw" }],
    });
    const lines = result.stdout.trim().split("\n");
    for (const p of ["/", "/etc", "/usr", "/usr/local/lib/nemoclaw", "/opt/openclaw"]) {
      expect(lines).toContain(`touch: cannot touch '${p}/escape': Read-only file system`);
    }
    expect(lines.slice(-2)).toEqual(["kept", "kept"]);
  });

  it("can write nowhere but /sandbox and /tmp; Landlock is what closes the writable tmpfs /dev/shm", async () => {
    const candidates = [
      "/", "/etc", "/usr", "/var/tmp", "/home", "/root", "/run", "/run/nemoclaw", "/dev", "/dev/shm", "/dev/mqueue",
      "/sys/fs/cgroup", "/proc/sys/kernel", "/sandbox", "/tmp",
    ];
    const script = `for p in ${candidates.join(" ")}; do (echo x > $p/nemoclaw-write) 2>/dev/null && echo "$p"; done; true`;
    const ours = await runShell(docker, image, script);
    expect(ours.stdout.trim().split("\n")).toEqual(["/sandbox", "/tmp"]);
    const control = await runShell(docker, image, script, { landlock: false });
    expect(control.stdout.trim().split("\n")).toEqual(["/dev/shm", "/sandbox", "/tmp"]);
  });

  it("Landlock stops a write to /tmp when only /sandbox is writable; the same write passes when /tmp is listed", async () => {
    const script = "echo x > /tmp/probe && echo wrote || echo refused";
    const denied = await runShell(docker, image, script, { landlock: withLandlock({ readWrite: ["/sandbox"] }) });
    expect(denied.stdout.trim()).toBe("refused");
    expect(denied.stderr).toMatch(/\/tmp\/probe: Permission denied/);

    const listed = await runShell(docker, image, script, { landlock: withLandlock({ readWrite: ["/sandbox", "/tmp"] }) });
    expect(listed.stdout.trim()).toBe("wrote");
    const without = await runShell(docker, image, script, { landlock: false });
    expect(without.stdout.trim()).toBe("wrote");
  });

  it("Landlock stops reads outside the read-only list", async () => {
    const script = "head -c 4 /etc/passwd && echo || echo refused";
    const withoutEtc = withLandlock({ readOnly: SHIPPED_LANDLOCK.readOnly.filter((p) => p !== "/etc") });
    const denied = await runShell(docker, image, script, { landlock: withoutEtc });
    expect(denied.stdout.trim()).toBe("refused");
    expect(denied.stderr).toMatch(/'\/etc\/passwd' for reading: Permission denied/);
    const allowed = await runShell(docker, image, script);
    expect(allowed.stdout.trim()).toBe("root");
  });

  it("hard_requirement refuses to run without Landlock; best_effort warns and runs", async () => {
    // A kernel without Landlock is simulated by a seccomp profile that denies its syscalls.
    const profile = buildSeccompProfile();
    const first = profile.syscalls[0]!;
    first.names = first.names.filter((n) => !n.startsWith("landlock_"));
    const noLandlock = (spec: Docker.ContainerCreateOptions): void => {
      spec.HostConfig!.SecurityOpt = ["no-new-privileges:true", seccompSecurityOpt(profile)];
    };
    const hard = await runShell(docker, image, "echo ran", {
      landlock: withLandlock({ compatibility: "hard_requirement" }),
      tweak: noLandlock,
    });
    expect(hard.exitCode).toBe(2);
    expect(hard.stdout).toBe("");
    expect(hard.stderr).toMatch(/Landlock is not available.*refusing to run unconfined/);

    const best = await runShell(docker, image, "echo ran", {
      landlock: withLandlock({ compatibility: "best_effort" }),
      tweak: noLandlock,
    });
    expect(best.exitCode).toBe(0);
    expect(best.stdout).toBe("ran\n");
    expect(best.stderr).toMatch(/warning: Landlock is not available.*WITHOUT filesystem confinement/);
  });

  it("sees no host files: /etc/shadow is unreadable and nothing is mounted but what the spec lists", async () => {
    const shadow = await runShell(docker, image, "cat /etc/shadow");
    expect(shadow.exitCode).not.toBe(0);
    expect(shadow.stderr).toMatch(/\/etc\/shadow: Permission denied/);

    const mounts = await runShell(docker, image, "cut -d' ' -f5 /proc/self/mountinfo");
    const points = mounts.stdout.trim().split("\n");
    const expected = /^\/(|proc(\/.*)?|dev(\/.*)?|sys(\/.*)?|tmp|sandbox|etc\/(hosts|hostname|resolv\.conf)|(usr\/)?sbin\/docker-init)$/;
    expect(points.filter((p) => !expected.test(p))).toEqual([]);
    expect(points).toContain("/sandbox");
  });
});

describe("process", () => {
  it("runs the workload with no capabilities, no_new_privs and a seccomp filter, as uid 1000", async () => {
    const result = await runShell(docker, image, "id -u; grep -E '^(Cap(Inh|Prm|Eff|Amb)|NoNewPrivs|Seccomp):' /proc/self/status");
    const status = Object.fromEntries(
      result.stdout
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => line.split(/:\s+/) as [string, string]),
    );
    expect(result.stdout.split("\n")[0]).toBe("1000");
    expect(status).toEqual({
      CapInh: "0000000000000000",
      CapPrm: "0000000000000000",
      CapEff: "0000000000000000",
      CapAmb: "0000000000000000",
      NoNewPrivs: "1",
      Seccomp: "2",
    });
  });

  it("gains nothing from a setuid-root binary (no_new_privs); without no-new-privileges it would", async () => {
    const mounts = [{ source: await setuidProbeDir(), target: "/opt/suid" }];
    const ours = await runInSandbox(docker, image, ["/opt/suid/probe", "euid"], { mounts });
    expect(ours.stdout.trim()).toBe("euid 1000");

    const control = await runInSandbox(docker, image, ["/opt/suid/probe", "euid"], {
      mounts,
      landlock: false,
      tweak: (spec) => {
        spec.HostConfig!.SecurityOpt = spec.HostConfig!.SecurityOpt!.filter((o: string) => !o.startsWith("no-new-privileges"));
      },
    });
    expect(control.stdout.trim()).toBe("euid 0");
  });

  it("cannot read /proc/1/environ or /proc/1/mem of PID 1 (another user); it could if PID 1 ran as the workload user", async () => {
    const script = "for f in environ mem; do head -c 64 /proc/1/$f >/dev/null && echo $f readable; done; true";
    const ours = await runShell(docker, image, script);
    expect(ours.stdout).toBe("");
    expect(ours.stderr).toMatch(/'\/proc\/1\/environ' for reading: Permission denied/);
    expect(ours.stderr).toMatch(/'\/proc\/1\/mem' for reading: Permission denied/);

    const control = await runShell(docker, image, "tr '\\0' '\\n' < /proc/1/environ", { landlock: false });
    expect(control.stdout).toMatch(/^NEMOCLAW_SANDBOX=1$/m);
  });

  it("cannot ptrace or read the memory of another process (seccomp); without the filter it could", async () => {
    const ops = ["ptrace", "process_vm_readv"];
    expect(await probe(ops)).toEqual({ ptrace: "EPERM", process_vm_readv: "EPERM" });
    expect(await probe(ops, { landlock: false, tweak: seccompOff })).toEqual({ ptrace: "ok", process_vm_readv: "ok" });
  });

  it("cannot unshare -U; without the seccomp filter an unprivileged user namespace would be created", async () => {
    const ours = await runShell(docker, image, "unshare -U true");
    expect(ours.exitCode).not.toBe(0);
    expect(ours.stderr).toMatch(/unshare failed: Operation not permitted/);

    const control = await runShell(docker, image, "unshare -U true && echo created", { landlock: false, tweak: seccompOff });
    expect(control.stdout.trim()).toBe("created");
    expect(await probe(["unshare-user", "clone-newuser", "userns-mount"])).toEqual({
      "unshare-user": "EPERM",
      "clone-newuser": "EPERM",
      "userns-mount": "EPERM",
    });
  });

  it("cannot mount, even as root with CAP_SYS_ADMIN (seccomp); unfiltered root with it could", async () => {
    const ours = await runShell(docker, image, "mount -t tmpfs none /mnt");
    expect(ours.exitCode).not.toBe(0);
    expect(ours.stderr).toMatch(/must be superuser|Operation not permitted/);

    const ops = ["mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "mount_setattr"];
    const workload = await probe(ops);
    const seccompOnly = await probe(ops, { landlock: false, tweak: rootWith(["SYS_ADMIN"]) });
    const unfiltered = await probe(ops, { landlock: false, tweak: rootWith(["SYS_ADMIN"], seccompOff) });
    for (const op of ops) {
      expect([op, workload[op]]).toEqual([op, "EPERM"]);
      expect([op, seccompOnly[op]]).toEqual([op, "EPERM"]);
      expect([op, unfiltered[op]]).not.toEqual([op, "EPERM"]);
    }
    expect(unfiltered.mount).toBe("ok");
  });

  it("cannot reach kernel attack surface: bpf, perf, userfaultfd, keyrings, io_uring, setns, modules, kexec", async () => {
    const ops = [
      "bpf", "perf_event_open", "userfaultfd", "add_key", "keyctl", "request_key", "io_uring_setup", "setns",
      "init_module", "finit_module", "delete_module", "kexec_file_load",
    ];
    const ours = await probe(ops);
    for (const op of ops) expect([op, ours[op]]).toEqual([op, "EPERM"]);

    // Unfiltered, the kernel answers these itself, with anything but EPERM.
    const control = await probe(ops, { landlock: false, tweak: seccompOff });
    for (const op of ["bpf", "add_key", "keyctl", "request_key", "setns", "init_module", "finit_module"]) {
      expect([op, control[op]]).not.toEqual([op, "EPERM"]);
    }
  });

  it("clone3 returns ENOSYS (so libc falls back to clone) and 32-bit syscalls are killed", async () => {
    const ours = await probe(process.arch === "x64" ? ["clone3", "int80"] : ["clone3"]);
    expect(ours.clone3).toBe("ENOSYS");
    if (process.arch === "x64") expect(ours.int80).toBe("signal 31");
    // Threads still work: Node's worker threads go through clone.
    const threads = await runNode(docker, image, "new (require('worker_threads').Worker)('process.exit(0)', {eval:true}).on('exit', c => console.log('worker', c))");
    expect(threads.stdout.trim()).toBe("worker 0");
  });

  it("cannot open packet, raw, non-route netlink or vsock sockets, even with CAP_NET_RAW", async () => {
    const blocked = ["socket:17:3:0", "socket:2:3:1", "socket:10:3:58", "socket:16:3:9", "socket:16:3:15", "socket:16:3:4", "socket:40:1:0"];
    const allowed = ["socket:1:1:0", "socket:2:1:0", "socket:2:2:0", "socket:10:1:0", "socket:16:3:0"];
    const workload = await probe([...blocked, ...allowed]);
    const seccompOnly = await probe(blocked, { landlock: false, tweak: rootWith(["NET_RAW"]) });
    const unfiltered = await probe(blocked, { landlock: false, tweak: rootWith(["NET_RAW"], seccompOff) });
    for (const op of blocked) {
      expect([op, workload[op]]).toEqual([op, "EPERM"]);
      expect([op, seccompOnly[op]]).toEqual([op, "EPERM"]);
    }
    for (const op of allowed) expect([op, workload[op]]).toEqual([op, "ok"]);
    // Without the filter, packet and raw sockets open with CAP_NET_RAW and netlink families need nothing.
    for (const op of ["socket:17:3:0", "socket:2:3:1", "socket:16:3:15", "socket:16:3:4"]) {
      expect([op, unfiltered[op]]).toEqual([op, "ok"]);
    }
  });
});

describe("limits", () => {
  it("the pids limit stops a fork bomb inside the sandbox", async () => {
    const limit = 64;
    let peak = 0;
    // Every shell of the bomb forks two more and then spins, so the tree only grows.
    const result = await runShell(docker, image, "f() { f | f & while :; do :; done; }; f", {
      limits: { pids: limit, nanoCpus: 2.5e8 },
      timeoutMs: 60_000,
      whileRunning: async (container) => {
        for (let i = 0; i < 6; i++) {
          await new Promise((r) => setTimeout(r, 300));
          const stats = await container.stats({ stream: false, "one-shot": true });
          peak = Math.max(peak, stats.pids_stats?.current ?? 0);
        }
        await container.kill();
      },
    });
    expect(result.stderr).toMatch(/Cannot fork|Resource temporarily unavailable/);
    expect(peak).toBeGreaterThan(limit / 2); // the bomb did run...
    expect(peak).toBeLessThanOrEqual(limit); // ...and never got past the limit
    const counted = await runNode(
      docker,
      image,
      `const {spawn} = require("child_process"); let ok = 0; const errors = new Set();
       for (let i = 0; i < 200; i++) { const c = spawn("sleep", ["30"]); if (c.pid) ok++; c.on("error", (e) => errors.add(e.code)); }
       setTimeout(() => { console.log(JSON.stringify({ ok, errors: [...errors] })); process.exit(0); }, 500);`,
      { limits: { pids: limit } },
    );
    const { ok, errors } = JSON.parse(counted.stdout) as { ok: number; errors: string[] };
    expect(ok).toBeLessThan(limit);
    expect(errors).toContain("EAGAIN");
  });

  it("the memory limit kills a memory hog (OOM, exit 137) and the host carries on", async () => {
    const hog = await runNode(
      docker,
      image,
      "const keep = []; for (;;) { keep.push(Buffer.alloc(1 << 20, 1)); }",
      { limits: { memoryBytes: 128 * 1024 ** 2 }, timeoutMs: 60_000 },
    );
    expect(hog.exitCode).toBe(137);
    expect(hog.oomKilled).toBe(true);

    await docker.ping();
    const after = await runShell(docker, image, "echo alive");
    expect(after.stdout).toBe("alive\n");
  });
});
