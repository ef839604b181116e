// What keeps the workload off its sandbox's proxy socket, checked and stated.
//
// The socket (<state>/sandboxes/<name>/run/proxy.sock, bind-mounted at /run/nemoclaw) is 0600,
// owned by the uid the host daemon runs as. With rootful Docker a container uid is the same
// number on the host, so a daemon running as the sandbox user's uid (1000: the first desktop
// user on most hosts) would let the workload connect directly. Two things close that:
//   - by construction, every preamble must carry the sandbox's caller secret, which only the
//     supervisor holds (state/caller-secret.ts): a direct connection is refused by the gateway;
//   - a workload uid equal to the daemon's is refused at container creation, unless Docker
//     remaps uids (rootless, userns-remap), so nothing else the host user owns is reachable either.
import { stat } from "node:fs/promises";
import type Docker from "dockerode";
import { RuntimeError } from "../state/runtime-error.js";
import { proxySocketFile, sandboxCallerSecretFile } from "../state/paths.js";
import type { SandboxUser } from "./container-spec.js";

/** True when Docker maps container uids to other host uids (rootless, or userns-remap). */
async function remapsUids(docker: Docker): Promise<boolean> {
  const info = (await docker.info().catch(() => ({}))) as { SecurityOptions?: unknown };
  const options = Array.isArray(info.SecurityOptions) ? info.SecurityOptions.map(String) : [];
  return options.some((o) => /name=(rootless|userns)\b/.test(o));
}

/** Refuses a workload uid that is the host daemon's own (this process's), unless Docker remaps uids. */
export async function assertWorkloadUidFree(docker: Docker, user: SandboxUser, daemonUid: number | undefined = process.getuid?.()): Promise<void> {
  if (daemonUid === undefined || user.uid !== daemonUid || (await remapsUids(docker))) return;
  throw new RuntimeError(
    "workload-uid-collision",
    `the sandbox user (uid ${user.uid}) is the uid this nemoclaw runtime runs as on the host: with Docker not remapping uids, the workload would own whatever that host user owns`,
    "run the nemoclaw runtime (openclaw) as another host user, or use rootless Docker or userns-remap so the sandbox's uid is not a host user's",
  );
}

/** One line for `status`: the socket's mode and owner, the uid comparison, the caller secret. */
export async function describeProxyGuard(docker: Docker, stateDir: string, name: string, user: SandboxUser): Promise<string> {
  const socket = await stat(proxySocketFile(stateDir, name)).catch(() => undefined);
  const secret = await stat(sandboxCallerSecretFile(stateDir, name)).catch(() => undefined);
  const daemonUid = socket?.uid ?? process.getuid?.();
  const parts = [socket?.isSocket() ? `${(socket.mode & 0o777).toString(8).padStart(4, "0")} uid ${socket.uid}` : "not served"];
  if (daemonUid !== undefined) {
    if (user.uid !== daemonUid) parts.push(`workload uid ${user.uid} ≠ daemon uid ${daemonUid}`);
    else parts.push((await remapsUids(docker)) ? `workload uid ${user.uid} = daemon uid ${daemonUid} but Docker remaps uids` : `WORKLOAD UID ${user.uid} = DAEMON UID ${daemonUid}`);
  }
  parts.push(secret ? "caller secret required" : "NO CALLER SECRET (recreate the sandbox): every connection is refused");
  return parts.join("; ");
}
