// The layers in force on the process answering `/nemoclaw status` — the sandboxed gateway — read
// from that process itself: seccomp, no_new_privs, capabilities and uid from /proc/self/status,
// Landlock by a write it must refuse, the read-only root from mountinfo, and the proxy socket
// as the only way out. The tools' domain is a child of this one, so it holds at least these.
// Node built-ins only (staged with the supervisor).
import { rmSync, statSync, writeFileSync } from "node:fs";
import { procStatus, readProcFile } from "../proc.js";

/** Writable for the user and the mount (a tmpfs, mode 1777) but in no Landlock list: only Landlock can refuse it. */
const LANDLOCK_PROBE = "/dev/shm/nemoclaw-gateway-landlock-probe";
const PROXY_SOCKET = "/run/nemoclaw/proxy.sock";

export interface LayerLine {
  name: string;
  ok: boolean;
  detail: string;
}

function landlockWrite(): string {
  try {
    writeFileSync(LANDLOCK_PROBE, "x");
    rmSync(LANDLOCK_PROBE, { force: true });
    return "allowed";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "error";
  }
}

function rootReadOnly(): boolean {
  for (const line of (readProcFile("/proc/self/mountinfo") ?? "").split("\n")) {
    const fields = line.split(" ");
    if (fields[4] === "/") return (fields[5] ?? "").split(",").includes("ro");
  }
  return false;
}

export function selfLayers(): LayerLine[] {
  const s = procStatus("self");
  const uid = Number((s.Uid ?? "").split(/\s+/)[0]);
  const seccomp = Number(s.Seccomp ?? -1);
  const filters = Number(s.Seccomp_filters ?? 0);
  const nnp = Number(s.NoNewPrivs ?? -1);
  const capEff = s.CapEff ?? "";
  const write = landlockWrite();
  const rootRo = rootReadOnly();
  let socket: string;
  try {
    socket = statSync(PROXY_SOCKET).isSocket() ? "present" : "not a socket";
  } catch (e) {
    socket = (e as NodeJS.ErrnoException).code ?? "error";
  }
  return [
    { name: "Network", ok: socket === "present", detail: socket === "present" ? "loopback only; egress through the proxy socket, decided on the host" : `proxy socket ${socket}: egress closed` },
    { name: "Filesystem", ok: write === "EACCES" && rootRo, detail: `Landlock ${write === "EACCES" ? "enforced (probe write refused)" : `NOT enforced (probe write: ${write})`}, root ${rootRo ? "read-only" : "WRITABLE"}` },
    {
      name: "Process",
      ok: seccomp === 2 && nnp === 1 && /^0+$/.test(capEff) && uid !== 0,
      detail: `uid ${uid}, seccomp ${seccomp === 2 ? `filter (${filters})` : `mode ${seccomp}`}, no_new_privs ${nnp === 1 ? "on" : "OFF"}, capabilities ${/^0+$/.test(capEff) ? "none" : capEff}`,
    },
  ];
}
