// Reports what is actually in force inside a sandbox, read from inside. The driver runs it like
// any command exec'd into the sandbox (through the launcher, as the workload user under
// Landlock), so everything it sees the workload sees too. Node built-ins and this folder only
// (bundled into one file, passed as `node -e` text); prints one JSON object on stdout.
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { procStatus, readProcFile } from "./proc.js";

const LAUNCHER = "/usr/local/lib/nemoclaw/landlock-exec";
const SUPERVISOR_SCRIPT = "/opt/nemoclaw/supervisor/supervisor.js";
const FORWARDER_PROGRAM = "/usr/local/lib/nemoclaw/egress-forwarder";
/** Writable for the user and the mount (a tmpfs, mode 1777) but in no Landlock list: only Landlock can refuse it. */
const LANDLOCK_PROBE = "/dev/shm/nemoclaw-landlock-probe";


function cmdline(pid: number): string[] {
  return (readProcFile(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean);
}

function processes(): Array<{ pid: number; ppid: number; argv: string[] }> {
  const out: Array<{ pid: number; ppid: number; argv: string[] }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(procStatus(Number(entry)).PPid);
    if (!Number.isInteger(ppid)) continue;
    out.push({ pid: Number(entry), ppid, argv: cmdline(Number(entry)) });
  }
  return out;
}

function layers(pid: number) {
  const s = procStatus(pid);
  const [uid] = (s.Uid ?? "").split(/\s+/);
  const [gid] = (s.Gid ?? "").split(/\s+/);
  return {
    pid,
    argv: cmdline(pid),
    uid: Number(uid),
    gid: Number(gid),
    seccomp: Number(s.Seccomp ?? -1),
    seccompFilters: Number(s.Seccomp_filters ?? 0),
    noNewPrivs: Number(s.NoNewPrivs ?? -1),
    capEff: s.CapEff ?? "",
    capPrm: s.CapPrm ?? "",
    capInh: s.CapInh ?? "",
    capBnd: s.CapBnd ?? "",
    capAmb: s.CapAmb ?? "",
  };
}

function landlock() {
  const abi = spawnSync(LAUNCHER, ["--abi"], { encoding: "utf8" });
  let write: string;
  try {
    writeFileSync(LANDLOCK_PROBE, "x");
    rmSync(LANDLOCK_PROBE, { force: true });
    write = "allowed";
  } catch (e) {
    write = (e as NodeJS.ErrnoException).code ?? "error";
  }
  return { abi: Number(abi.stdout.trim() || 0), probe: LANDLOCK_PROBE, write };
}

function mounts() {
  const interesting = /^\/(sandbox|tmp|run\/nemoclaw|opt\/.*)?$/;
  const out: Array<{ target: string; type: string; options: string }> = [];
  for (const line of (readProcFile("/proc/self/mountinfo") ?? "").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fields = left.split(" ");
    const target = fields[4] ?? "";
    if (!interesting.test(target)) continue;
    const type = right.split(" ")[0] ?? "";
    const options = (fields[5] ?? "").split(",").includes("ro") ? "ro" : "rw";
    out.push({ target, type, options });
  }
  return out;
}

const all = processes();
// PID 1 (tini) names the script too, as its own argument; the supervisor runs it with node.
const supervisor = all.find((p) => p.argv[1] === SUPERVISOR_SCRIPT);
const forwarder = supervisor ? all.find((p) => p.ppid === supervisor.pid && p.argv[0] === FORWARDER_PROGRAM) : undefined;
const workload = supervisor ? all.find((p) => p.ppid === supervisor.pid && p !== forwarder) : undefined;
const environ = (p: { pid: number } | undefined) => (p ? (readProcFile(`/proc/${p.pid}/environ`) === undefined ? "unreadable" : "READABLE") : "n/a");
const proxy = (() => {
  try {
    const st = statSync("/run/nemoclaw/proxy.sock");
    return { present: st.isSocket(), mode: (st.mode & 0o777).toString(8), uid: st.uid };
  } catch (e) {
    return { present: false, error: (e as NodeJS.ErrnoException).code ?? "error" };
  }
})();

process.stdout.write(
  `${JSON.stringify({
    supervisor: supervisor ? layers(supervisor.pid) : null,
    forwarder: forwarder ? layers(forwarder.pid) : null,
    workload: workload ? layers(workload.pid) : null,
    self: layers(process.pid),
    landlock: landlock(),
    mounts: mounts(),
    proxySocket: proxy,
    environ: { supervisor: environ(supervisor), forwarder: environ(forwarder) },
  })}\n`,
);
