// Read-only content for sandboxes (the supervisor, OpenClaw and its production dependencies)
// lives in named Docker volumes, filled once through the Engine API and then mounted read-only.
// A bind mount would show the host path it comes from in the sandbox's /proc/self/mountinfo
// (home directory, checkout, state dir); a volume shows only /var/lib/docker/volumes/<name>.
// It also works unchanged when dockerd is on another machine.
//
// A volume is named by what it holds (a digest or a version plus a content key), so each build
// or OpenClaw version gets its own and a sandbox keeps the one it was created with. Filling it
// writes a marker last; a volume without the marker (an interrupted fill) is filled again.
// Old volumes stay until `openclaw nemoclaw gc` (or uninstall) finds nothing using them
// (runtime/cleanup.ts).
import type Docker from "dockerode";
import tar from "tar-fs";
import { isNotFound } from "./docker-client.js";

export const STAGED_LABEL = "nemoclaw.staged";
const MARKER = ".nemoclaw-staged";
const STAGE = "/stage";

/** One fill per volume at a time within this process (several sandboxes created at once). */
const filling = new Map<string, Promise<boolean>>();

export interface StagedVolume {
  name: string;
  /** Label value: what the volume holds ("supervisor", "openclaw"). */
  kind: string;
  /** Any image present: a container is created from it to reach the volume, never started. */
  image: string;
  /** The files: `entries` (paths relative to `cwd`, walked recursively) except what `skip` says. */
  cwd: string;
  entries: string[];
  skip?: (absolutePath: string) => boolean;
}

/**
 * The volume `name` holding `entries` of `cwd`, filled now if it is not yet.
 * Resolves true when this call filled it.
 */
export function ensureStagedVolume(docker: Docker, options: StagedVolume): Promise<boolean> {
  const pending = filling.get(options.name);
  if (pending) return pending;
  const run = fill(docker, options).finally(() => filling.delete(options.name));
  filling.set(options.name, run);
  return run;
}

async function fill(docker: Docker, options: StagedVolume): Promise<boolean> {
  await docker.createVolume({ Name: options.name, Labels: { [STAGED_LABEL]: options.kind } });
  const container = await docker.createContainer({
    Image: options.image,
    Entrypoint: ["/bin/true"],
    Cmd: [],
    Labels: { [STAGED_LABEL]: `${options.kind}-filler` },
    HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: options.name, Target: STAGE }] },
  });
  try {
    try {
      await container.getArchive({ path: `${STAGE}/${MARKER}` });
      return false;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const pack = tar.pack(options.cwd, {
      entries: options.entries,
      ...(options.skip ? { ignore: options.skip } : {}),
      // Owned by root and writable by nobody else; readable by all (the workload is uid 1000),
      // whatever the source's modes: an installed plugin copy can be 0700/0600, and the gateway
      // (uid 1000) loads the tools' backend plugin from the supervisor's volume.
      map: (header) => ({
        ...header,
        uid: 0,
        gid: 0,
        uname: "root",
        gname: "root",
        mode: header.type === "directory" || ((header.mode ?? 0) & 0o100) !== 0 ? 0o755 : 0o644,
      }),
      // The marker goes last, so a volume holding it holds everything.
      finish: (stream) => stream.entry({ name: MARKER, mode: 0o644 }, "", () => stream.finalize()),
      finalize: false,
    });
    await container.putArchive(pack, { path: STAGE });
    return true;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

