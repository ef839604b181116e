// `eject --export DIR`: /sandbox copied out of a sandbox, through the Engine API's archive of
// the container's path (works on a stopped container; the volume is mounted for it). The
// archive comes from a sandbox that untrusted code wrote to, so it is unpacked defensively:
//   - DIR must not exist yet (or be an empty directory of ours): nothing is written over;
//   - every entry's path is normalised and must stay inside DIR (no absolute paths, no `..`);
//   - only directories and regular files are created, with O_EXCL|O_NOFOLLOW, so an entry can
//     never write through a link; symlinks are not created (listed instead), hard links become
//     copies of a file already extracted, devices and FIFOs are skipped;
//   - modes keep the permission bits only (no setuid/setgid/sticky); everything is owned by the
//     operator (this process), whatever the archive says.
import { constants } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, copyFile, utimes } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import tarStream from "tar-stream";
import { RuntimeError } from "../state/runtime-error.js";
import { GATEWAY_COMPILE_CACHE } from "../supervisor/gateway-relay.js";

/** The gateway's compile cache (rebuilt by its next start): not the operator's data. */
const COMPILE_CACHE = path.posix.relative("/sandbox", GATEWAY_COMPILE_CACHE);

export type ExportResult = {
  dir: string;
  files: number;
  directories: number;
  bytes: number;
  /** Paths (relative to DIR) of entries that were not written, with why. */
  skipped: Array<{ path: string; why: string }>;
};

/** DIR empty or absent, made 0700; refuses a symlink or someone else's folder. */
async function prepareTarget(dir: string): Promise<void> {
  const info = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (!info) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return;
  }
  if (!info.isDirectory()) throw new RuntimeError("export-target", `${dir} exists and is not a directory`, "give a new folder for --export");
  if ((await readdir(dir)).length > 0) throw new RuntimeError("export-target", `${dir} is not empty: nothing is exported over existing files`, "give a new or empty folder for --export");
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) throw new RuntimeError("export-target", `${dir} belongs to uid ${info.uid}, not to you`, "give a folder of your own for --export");
}

/**
 * The archive's path below /sandbox, normalised, or undefined when it would leave DIR. Docker
 * names entries `sandbox/…` for a copy of `/sandbox`.
 */
export function safeRelative(entryName: string): string | undefined {
  const parts = entryName.split("/").filter((p) => p !== "" && p !== ".");
  if (parts[0] === "sandbox") parts.shift();
  else return undefined;
  if (parts.some((p) => p === ".." || p.includes("\0"))) return undefined;
  return parts.join("/");
}

async function drain(stream: Readable): Promise<void> {
  stream.resume();
  await new Promise<void>((resolve, reject) => stream.on("end", resolve).on("error", reject));
}

/** Writes one regular file, never following a link and never replacing anything. */
async function writeEntry(target: string, stream: Readable, mode: number): Promise<number> {
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      await handle.write(chunk as Buffer);
    }
  } finally {
    await handle.close();
  }
  await chmod(target, (mode & 0o777) | 0o600);
  return bytes;
}

/** Copies `/sandbox` of `container` into `dir` (see the file comment for what is refused). */
export async function exportSandboxData(container: Pick<Docker.Container, "getArchive">, dir: string, onProgress: (message: string) => void = () => {}): Promise<ExportResult> {
  const root = path.resolve(dir);
  await prepareTarget(root);
  const archive = (await container.getArchive({ path: "/sandbox" })) as unknown as Readable;
  const extract = tarStream.extract();
  const result: ExportResult = { dir: root, files: 0, directories: 0, bytes: 0, skipped: [] };
  const dirModes: Array<[string, number, Date | undefined]> = [];
  const made = new Set<string>([""]);
  const ensureParents = async (rel: string): Promise<void> => {
    const parent = path.posix.dirname(rel);
    if (parent === "." || made.has(parent)) return;
    await ensureParents(parent);
    await mkdir(path.join(root, parent), { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
    const info = await lstat(path.join(root, parent));
    if (!info.isDirectory()) throw new RuntimeError("export-unsafe", `${parent} in the archive is not a directory`, "nothing was followed; remove the export folder and try again");
    made.add(parent);
  };
  let lastReport = Date.now();
  extract.on("entry", (header, stream, next) => {
    const rel = safeRelative(header.name);
    const finish = (e?: unknown) => (e ? next(e as Error) : next());
    void (async () => {
      if (rel === undefined) {
        result.skipped.push({ path: header.name, why: "outside /sandbox" });
        return drain(stream);
      }
      if (rel === "") {
        // /sandbox itself: DIR already stands for it.
        return drain(stream);
      }
      if (rel === COMPILE_CACHE || rel.startsWith(`${COMPILE_CACHE}/`)) {
        if (rel === COMPILE_CACHE) result.skipped.push({ path: rel, why: "OpenClaw's compile cache, rebuilt at its next start" });
        return drain(stream);
      }
      await ensureParents(rel);
      const target = path.join(root, rel);
      const mode = (header.mode ?? 0o644) & 0o777;
      switch (header.type) {
        case "directory": {
          await mkdir(target, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== "EEXIST") throw e;
          });
          if (!(await lstat(target)).isDirectory()) throw new RuntimeError("export-unsafe", `${rel} in the archive is not a directory`, "remove the export folder and try again");
          made.add(rel);
          dirModes.push([target, mode | 0o700, header.mtime]);
          result.directories++;
          return drain(stream);
        }
        case "file":
        case "contiguous-file": {
          result.bytes += await writeEntry(target, stream, mode).catch((e: NodeJS.ErrnoException) => {
            if (e.code === "EEXIST") throw new RuntimeError("export-unsafe", `${rel} appears twice in the archive: the first copy was kept, nothing was replaced`, "look at the sandbox's /sandbox; remove the export folder and try again");
            throw e;
          });
          if (header.mtime) await utimes(target, header.mtime, header.mtime);
          result.files++;
          break;
        }
        case "link": {
          const source = header.linkname ? safeRelative(header.linkname) : undefined;
          if (source === undefined || source === "" || !(await lstat(path.join(root, source)).then((s) => s.isFile(), () => false))) {
            result.skipped.push({ path: rel, why: `hard link to ${header.linkname ?? "?"}` });
          } else {
            await copyFile(path.join(root, source), target, constants.COPYFILE_EXCL);
            result.files++;
          }
          return drain(stream);
        }
        case "symlink":
          result.skipped.push({ path: rel, why: `symlink to ${header.linkname ?? "?"}` });
          return drain(stream);
        default:
          result.skipped.push({ path: rel, why: `${header.type ?? "unknown"} entry` });
          return drain(stream);
      }
      if (Date.now() - lastReport > 1000) {
        lastReport = Date.now();
        onProgress(`${result.files} files, ${result.bytes} bytes`);
      }
    })().then(() => finish(), finish);
  });
  await new Promise<void>((resolve, reject) => {
    extract.on("finish", resolve).on("error", reject);
    archive.on("error", reject);
    archive.pipe(extract);
  });
  // Directory modes last (a 0500 folder would refuse its own files), deepest first.
  for (const [target, mode, mtime] of dirModes.reverse()) {
    await chmod(target, mode);
    if (mtime) await utimes(target, mtime, mtime);
  }
  return result;
}
