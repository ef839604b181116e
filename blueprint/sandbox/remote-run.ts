// /run/nemoclaw for a sandbox on a remote engine (docs/architecture.md, "Remote engines"): no
// host folder can be bind-mounted there, so it is a volume of the sandbox's own, and the CA
// certificate and bundle are put into it through the Engine API before the container starts.
// The proxy socket in it is made by the engine relay inside (supervisor/engine-relay.ts).
import type Docker from "dockerode";
import tar from "tar-fs";
import { sandboxRunDir } from "../state/paths.js";
import { RUNTIME_DIR } from "./container-spec.js";
import { isNotFound } from "./docker-client.js";
import { BUNDLE_FILE, CA_FILE } from "./trust.js";

export function runVolumeName(name: string): string {
  return `nemoclaw-${name}-run`;
}

export async function ensureRunVolume(docker: Docker, name: string, labels: Record<string, string>): Promise<string> {
  const volume = runVolumeName(name);
  // Creating an existing volume returns it: the run volume is kept with the sandbox.
  await docker.createVolume({ Name: volume, Labels: labels });
  return volume;
}

/** Copies the CA certificate and bundle from the host run dir into the created (not started) container's /run/nemoclaw. */
export async function putTrustFiles(container: Docker.Container, stateDir: string, name: string): Promise<void> {
  const pack = tar.pack(sandboxRunDir(stateDir, name), {
    entries: [CA_FILE, BUNDLE_FILE],
    map: (header) => ({ ...header, uid: 0, gid: 0, uname: "root", gname: "root", mode: 0o644 }),
  });
  await container.putArchive(pack, { path: RUNTIME_DIR });
}

/** Resolves whether there was one. */
export async function removeRunVolume(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getVolume(runVolumeName(name)).remove();
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}
