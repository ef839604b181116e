import * as realFs from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";

export type FsPromises = Pick<typeof realFs, "open" | "rename" | "unlink" | "readFile" | "mkdir" | "chmod" | "stat">;

/**
 * Replace `file` with `data` so that a crash leaves either the old or the new content, never a mix:
 * write a temp file beside it, fsync, rename over, fsync the directory.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: { mode?: number; fs?: FsPromises } = {},
): Promise<void> {
  const fs = opts.fs ?? realFs;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, "wx", opts.mode ?? 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.unlink(tmp).catch(() => {});
    throw e;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.unlink(tmp).catch(() => {});
    throw e;
  }
  const dirHandle = await fs.open(dir, "r").catch(() => undefined);
  if (dirHandle) {
    await dirHandle.sync().catch(() => {});
    await dirHandle.close();
  }
}
