// /sandbox with a size limit. A plain Docker volume is a folder on the host's disk: an agent
// could fill that disk. Docker's own quotas (`--storage-opt size`, the local driver's `size`)
// need xfs with project quotas under /var/lib/docker, which most hosts lack (ext4 here). What
// works on any Linux dockerd: an ext4 file system in a sparse image file of the quota's size,
// attached to a loop device and mounted by the local volume driver (type=ext4,device=/dev/loopN).
// Writes inside stop at the quota with ENOSPC; the host loses at most the quota.
//
//   volume nemoclaw-<name>-disk      plain volume holding sandbox.img (sparse, ext4, no reserved blocks)
//   loop device /dev/loopN           attached to sandbox.img (host kernel object; gone after reboot)
//   volume nemoclaw-<name>-sandbox   local driver, type ext4, device /dev/loopN: mounted at /sandbox
//
// Attaching a loop device needs root on the Docker host; the nemoclaw runtime may not have it,
// dockerd does. So a short-lived helper container does it: the sandbox image (util-linux,
// e2fsprogs), CAP_SYS_ADMIN, the host's /dev, and device-cgroup access to loop devices only.
// It runs a fixed script below, never the workload. The same script is idempotent: it makes the
// image once, and attaches it only when no loop device holds it (after a reboot, on start).
import type Docker from "dockerode";
import { RuntimeError } from "../state/runtime-error.js";
import { captureOutput } from "./container-io.js";
import { isNotFound } from "./docker-client.js";
import { SANDBOX_LABEL, sandboxVolumeName, type SandboxUser } from "./container-spec.js";
import type { SandboxRecord } from "./registry.js";

export function sandboxDiskVolumeName(name: string): string {
  return `nemoclaw-${name}-disk`;
}

/** Where the disk volume appears in the helper: a path unique to the sandbox, as losetup records it. */
function diskDir(name: string): string {
  return `/${sandboxDiskVolumeName(name)}`;
}

// $1 size in bytes, $2 uid:gid of /sandbox's root, $3 the image's folder. Prints the loop device.
const ATTACH = String.raw`
set -eu
img="$3/sandbox.img"
if [ ! -e "$img" ]; then
  rm -f "$img.tmp"
  truncate -s "$1" "$img.tmp"
  # lazy_journal_init: the journal is not zeroed (64 MiB written for 10 GiB); the file is new and
  # sparse, so what is not written reads as zeros anyway.
  mkfs.ext4 -q -F -m 0 -E root_owner="$2",lazy_itable_init=1,lazy_journal_init=1 -L sandbox "$img.tmp"
  # /sandbox as the image has it (0750, the workload's), without lost+found.
  printf 'rmdir lost+found\nset_inode_field / mode 040750\n' | debugfs -w -f - "$img.tmp" >/dev/null 2>&1
  mv "$img.tmp" "$img"
fi
# A loop device already holding this image (same inode on the same file system) is reused.
me="$(stat -c '%i %Hd:%Ld' "$img")"
held="$(losetup -l -n -O NAME,BACK-INO,BACK-MAJ:MIN | while read -r n i mm; do [ "$i $mm" = "$me" ] && echo "$n"; done | head -n 1)"
if [ -n "$held" ]; then echo "$held"; exit 0; fi
flock /dev/loop-control losetup --find --show "$img"
`;

// $1 the image's folder. Detaches every loop device holding its image.
const DETACH = String.raw`
set -eu
img="$1/sandbox.img"
[ -e "$img" ] || exit 0
me="$(stat -c '%i %Hd:%Ld' "$img")"
losetup -l -n -O NAME,BACK-INO,BACK-MAJ:MIN | while read -r n i mm; do [ "$i $mm" = "$me" ] && losetup -d "$n" || true; done
`;

async function runHelper(docker: Docker, image: string, name: string, script: string, args: string[]): Promise<string> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ["/bin/sh", "-c", script, "nemoclaw-disk", ...args],
    Cmd: [],
    User: "0:0",
    Labels: { [SANDBOX_LABEL]: name, "nemoclaw.role": "disk-helper" },
    HostConfig: {
      NetworkMode: "none",
      CapDrop: ["ALL"],
      CapAdd: ["SYS_ADMIN"],
      // Loop devices (block 7:*) and the loop control device (char 10:237), nothing else.
      DeviceCgroupRules: ["b 7:* rwm", "c 10:237 rwm"],
      Mounts: [
        { Type: "bind", Source: "/dev", Target: "/dev" },
        { Type: "volume", Source: sandboxDiskVolumeName(name), Target: diskDir(name) },
      ],
    },
  });
  try {
    const out = await captureOutput(async (io) => {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const done = new Promise<void>((resolve) => stream.on("end", resolve));
      docker.modem.demuxStream(stream, io.stdout, io.stderr);
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1000))]);
      return StatusCode;
    });
    if (out.exitCode !== 0) {
      throw new RuntimeError(
        "disk-failed",
        `could not prepare the /sandbox disk of ${name} (exit ${out.exitCode})`,
        "the Docker host must allow a container with CAP_SYS_ADMIN and loop devices; or create the sandbox without a quota (--disk 0)",
        out.stderr.trim().split("\n"),
      );
    }
    return out.stdout.trim();
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * The sandbox's /sandbox volume limited to `sizeBytes`: the image made and attached if needed,
 * and the volume pointing at the loop device that holds it. Resolves with whether the /sandbox
 * volume was (re)made; a container made with an older one must be recreated.
 */
async function ensureSandboxDisk(
  docker: Docker,
  options: { name: string; image: string; sizeBytes: number; user: SandboxUser; volume: string; labels: Record<string, string>; beforeRemake: () => Promise<void> },
): Promise<{ device: string; remade: boolean }> {
  await docker.createVolume({ Name: sandboxDiskVolumeName(options.name), Labels: options.labels });
  const device = await runHelper(docker, options.image, options.name, ATTACH, [String(options.sizeBytes), `${options.user.uid}:${options.user.gid}`, diskDir(options.name)]);
  if (!/^\/dev\/loop\d+$/.test(device)) throw new RuntimeError("disk-failed", `the /sandbox disk of ${options.name} was attached as "${device}", not a loop device`);
  const current = await docker.getVolume(options.volume).inspect().catch(() => undefined);
  if (current?.Options?.device === device) return { device, remade: false };
  if (current) {
    // A volume in use cannot be removed: the container made with it goes first.
    await options.beforeRemake();
    await docker.getVolume(options.volume).remove();
  }
  await docker.createVolume({
    Name: options.volume,
    Driver: "local",
    DriverOpts: { type: "ext4", device, o: "nosuid,nodev" },
    Labels: options.labels,
  });
  return { device, remade: current !== undefined };
}

/** Detaches the loop device and removes the image's volume (the /sandbox volume must be gone already). */
async function removeSandboxDisk(docker: Docker, name: string, image: string): Promise<boolean> {
  const volume = docker.getVolume(sandboxDiskVolumeName(name));
  if (!(await volume.inspect().then(() => true, () => false))) return false;
  await runHelper(docker, image, name, DETACH, [diskDir(name)]);
  await volume.remove();
  return true;
}


/**
 * /sandbox's volume: with a quota, the loop-mounted ext4 image (attached again after a reboot);
 * else a plain volume. True when a quota volume was remade (its container must be too);
 * `beforeRemake` removes a container that still holds the old one (after a reboot it does).
 */
export async function ensureSandboxVolume(
  docker: Docker,
  record: Pick<SandboxRecord, "name" | "image" | "limits" | "user">,
  labels: Record<string, string>,
  beforeRemake: () => Promise<void> = async () => undefined,
): Promise<boolean> {
  const volume = sandboxVolumeName(record.name);
  if (record.limits.diskBytes === 0) {
    await docker.createVolume({ Name: volume, Labels: labels });
    return false;
  }
  const { remade } = await ensureSandboxDisk(docker, { name: record.name, image: record.image, sizeBytes: record.limits.diskBytes, user: record.user, volume, labels, beforeRemake });
  return remade;
}

/** Removes /sandbox's volume (and the quota's image, loop device included); says what went. */
export async function removeSandboxVolumes(docker: Docker, record: Pick<SandboxRecord, "name" | "image">): Promise<string[]> {
  const removed: string[] = [];
  try {
    await docker.getVolume(sandboxVolumeName(record.name)).remove();
    removed.push(`volume ${sandboxVolumeName(record.name)}`);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  if (await removeSandboxDisk(docker, record.name, record.image)) removed.push(`volume ${sandboxDiskVolumeName(record.name)}`);
  return removed;
}
