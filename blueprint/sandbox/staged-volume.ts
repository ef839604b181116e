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
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type Docker from "dockerode";
import tar from "tar-fs";
import { z } from "zod";
import { StateFile } from "../state/state-file.js";
import { isNotFound } from "./docker-client.js";

export const STAGED_LABEL = "nemoclaw.staged";
const MARKER = ".nemoclaw-staged";
const STAGE = "/stage";

/** One fill per volume at a time within this process (several sandboxes created at once). */
const filling = new Map<string, Promise<boolean>>();
/** A random id given to each volume when it is made: a volume made again has another. */
const INSTANCE_LABEL = "nemoclaw.staged.instance";
/**
 * Volumes seen complete (marker present), by name → which volume it was (its instance label and
 * CreatedAt). One inspect then tells it is still that volume: one removed (`gc`, uninstall) and
 * made again is checked again. Spares a filler container per create (a container made, the
 * marker read through the archive API, the container removed: 75–130 ms per volume). Kept in
 * this process and, where `memo` names a file, across processes: every CLI verb is a new runtime
 * process, so without the file every create paid the check for both of its volumes.
 */
const complete = new Map<string, string>();

const MemoSchema = z.object({ version: z.literal(1), complete: z.record(z.string(), z.string()) });
type Memo = z.infer<typeof MemoSchema>;
/** Entries kept in the file: a volume per build and per OpenClaw version, the newest ones. */
const MEMO_ENTRIES = 32;

const emptyMemo = (): Memo => ({ version: 1, complete: {} });

/** What the file remembers; a missing or damaged file remembers nothing (it is only a cache). */
async function readMemo(file: string): Promise<Memo> {
  return new StateFile(file, MemoSchema).read(emptyMemo, "it only remembers which staged volumes were complete").catch(emptyMemo);
}

async function remember(file: string, name: string, instance: string): Promise<void> {
  const memo = await readMemo(file);
  delete memo.complete[name];
  const entries = [...Object.entries(memo.complete), [name, instance] as const].slice(-MEMO_ENTRIES);
  await new StateFile(file, MemoSchema).write({ version: 1, complete: Object.fromEntries(entries) }).catch(() => undefined);
}

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
  /** A file remembering the volumes found complete across processes (the state dir's `stagedVolumesFile`). */
  memo?: string;
}

/**
 * The volume `name` holding `entries` of `cwd`, filled now if it is not yet.
 * Resolves true when this call filled it.
 */
export function ensureStagedVolume(docker: Docker, options: StagedVolume): Promise<boolean> {
  const pending = filling.get(options.name);
  if (pending) return pending;
  const run = fillUnlessComplete(docker, options).finally(() => filling.delete(options.name));
  filling.set(options.name, run);
  return run;
}

async function fillUnlessComplete(docker: Docker, options: StagedVolume): Promise<boolean> {
  const seen = complete.get(options.name) ?? (options.memo === undefined ? undefined : (await readMemo(options.memo)).complete[options.name]);
  if (seen !== undefined && (await identity(docker, options.name)) === seen) {
    complete.set(options.name, seen);
    return false;
  }
  complete.delete(options.name);
  const filled = await fill(docker, options);
  const now = await identity(docker, options.name);
  if (now !== undefined) {
    complete.set(options.name, now);
    if (options.memo !== undefined) await remember(options.memo, options.name, now);
  }
  return filled;
}

async function identity(docker: Docker, name: string): Promise<string | undefined> {
  try {
    const info = (await docker.getVolume(name).inspect()) as { CreatedAt?: string; Labels?: Record<string, string> | null };
    return `${info.Labels?.[INSTANCE_LABEL] ?? ""} ${info.CreatedAt ?? ""}`;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function fill(docker: Docker, options: StagedVolume): Promise<boolean> {
  // An existing volume keeps its labels: the instance id is set only when it is made.
  await docker.createVolume({ Name: options.name, Labels: { [STAGED_LABEL]: options.kind, [INSTANCE_LABEL]: randomUUID() } });
  const container = await docker.createContainer({
    Image: options.image,
    Entrypoint: ["/bin/true"],
    Cmd: [],
    Labels: { [STAGED_LABEL]: `${options.kind}-filler` },
    HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: options.name, Target: STAGE }] },
  });
  try {
    try {
      const marker = (await container.getArchive({ path: `${STAGE}/${MARKER}` })) as unknown as Readable;
      // Read to its end: a body left unread held the engine's socket open, and with it the
      // runtime's exit by 2 s after every create that checked a volume.
      await finished(marker.resume());
      return false;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const pack = tar.pack(options.cwd, {
      // A copy: tar-fs consumes the array it is given.
      entries: [...options.entries],
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

