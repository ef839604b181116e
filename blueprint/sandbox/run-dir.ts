// The sandbox's run dir on the host (the proxy socket and the CA certificate, mounted at
// /run/nemoclaw). It lives under /tmp/nemoclaw-<uid>/ (see state/paths.ts for why), a folder
// other local users could create first: it is used only when it is ours, a real directory and
// closed to everyone else.
import { lstat, mkdir, chmod, rm, rmdir } from "node:fs/promises";
import { RuntimeError } from "../state/runtime-error.js";
import { runDirsRoot, sandboxRunDir, stateRunDir } from "../state/paths.js";

async function assertOwnPrivateDir(dir: string): Promise<void> {
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o077) !== 0) {
    throw new RuntimeError(
      "run-dir-unsafe",
      `${dir} is not a private directory of this user (it is ${info.isSymbolicLink() ? "a symlink" : `mode ${(info.mode & 0o777).toString(8)}, uid ${info.uid}`})`,
      `someone else may have created it; remove it (\`rm -rf ${dir}\`) and try again`,
    );
  }
}

/** Creates (or checks) the run dir of sandbox `name`: 0755, so root inside (no DAC override) can enter it. */
export async function ensureRunDir(stateDir: string, name: string): Promise<string> {
  const root = runDirsRoot();
  await mkdir(root, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
  });
  await assertOwnPrivateDir(root);
  await mkdir(stateRunDir(stateDir), { recursive: true, mode: 0o700 });
  const dir = sandboxRunDir(stateDir, name);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  return dir;
}

export async function removeRunDir(stateDir: string, name: string): Promise<void> {
  await rm(sandboxRunDir(stateDir, name), { recursive: true, force: true });
  // The state dir's folder goes with its last sandbox.
  await rmdir(stateRunDir(stateDir)).catch(() => undefined);
}
