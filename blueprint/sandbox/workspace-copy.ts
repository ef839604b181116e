// The operator's workspace folder (AGENTS.md, SOUL.md, skills/…) copied into a gateway
// sandbox's /sandbox/workspace at onboarding. Read on the host, written inside as the workload
// through the sandbox's launcher (uid 1000, so the files are the sandbox user's, and only where
// the workload may write), each file atomically and only when its content differs.
//
// Never copied: files that look like secrets (.env, keys, key stores, credential files), files
// holding a value the operator's OpenClaw config treats as secret, symlinks (they may point
// anywhere on the host), .git and node_modules (size; a skill installs its own dependencies).
// Each is listed with why.
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { RuntimeError } from "../state/runtime-error.js";
import { execWithInput, type ExecIo } from "./container-io.js";

export const WORKSPACE_LIMITS = { files: 5_000, bytes: 64 * 1024 * 1024 } as const;

const SECRET_FILE = [
  /^\.env(\..+)?$/i,
  /\.(pem|key|p12|pfx|jks|keystore|kdbx|gpg|asc)$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/,
  /^\.(netrc|npmrc|pypirc|pgpass)$/,
  /^credentials?(\.[a-z]+)?$/i,
  /secret/i,
];
const SKIPPED_DIRS = new Set([".git", "node_modules"]);

export interface WorkspaceFile {
  /** Relative, with `/`. */
  path: string;
  mode: number;
  data: Buffer;
}
export interface Skipped {
  path: string;
  why: string;
}

/** What a host folder would put in the sandbox; `found: false` when it does not exist. */
export async function collectWorkspace(dir: string, sensitive: readonly string[]): Promise<{ found: boolean; files: WorkspaceFile[]; skipped: Skipped[]; skills: string[] }> {
  const files: WorkspaceFile[] = [];
  const skipped: Skipped[] = [];
  const top = await lstat(dir).catch(() => undefined);
  if (!top?.isDirectory()) return { found: false, files, skipped, skills: [] };
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isSymbolicLink()) skipped.push({ path: r, why: "a symlink (it may point outside the workspace)" });
      else if (e.isDirectory()) {
        if (SKIPPED_DIRS.has(e.name)) skipped.push({ path: `${r}/`, why: e.name === ".git" ? "version-control history" : "installed dependencies" });
        else await walk(r);
      } else if (!e.isFile()) skipped.push({ path: r, why: "not a regular file" });
      else if (SECRET_FILE.some((re) => re.test(e.name))) skipped.push({ path: r, why: "looks like a secret" });
      else {
        const full = path.join(dir, r);
        const [data, st] = await Promise.all([readFile(full), lstat(full)]);
        if (sensitive.some((s) => data.includes(s))) {
          skipped.push({ path: r, why: "holds a secret from your OpenClaw config" });
          continue;
        }
        bytes += data.length;
        if (files.length >= WORKSPACE_LIMITS.files || bytes > WORKSPACE_LIMITS.bytes) {
          throw new RuntimeError(
            "workspace-too-large",
            `the workspace ${dir} is larger than onboarding copies (${WORKSPACE_LIMITS.files} files, ${WORKSPACE_LIMITS.bytes / 1024 / 1024} MiB)`,
            "move large data out of the workspace, or copy it in yourself with `openclaw nemoclaw <name> exec`",
          );
        }
        files.push({ path: r, mode: st.mode & 0o755, data });
      }
    }
  };
  await walk("");
  const skills = [...new Set(files.map((f) => /^skills\/([^/]+)\/SKILL\.md$/.exec(f.path)?.[1]).filter((s): s is string => s !== undefined))];
  return { found: true, files, skipped, skills };
}

/** `node -e` program: the bundle `{root, files:[{path, mode, data}]}` on stdin; prints `{written, unchanged}`. */
const WRITE = `
const fs = require("node:fs");
const path = require("node:path");
const { root, files } = JSON.parse(fs.readFileSync(0, "utf8"));
let written = 0, unchanged = 0;
fs.mkdirSync(root, { recursive: true, mode: 0o755 });
for (const f of files) {
  const target = path.resolve(root, f.path);
  if (!target.startsWith(root + "/")) throw new Error("outside the workspace: " + f.path);
  const data = Buffer.from(f.data, "base64");
  let same = false;
  try { same = fs.readFileSync(target).equals(data); } catch {}
  if (same) { unchanged++; continue; }
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const tmp = target + ".nemoclaw-" + process.pid + ".tmp";
  const fd = fs.openSync(tmp, "w", f.mode & 0o755 | 0o600);
  try { fs.writeSync(fd, data); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  fs.renameSync(tmp, target);
  written++;
}
console.log(JSON.stringify({ written, unchanged }));
`;

/** Writes the files under `root` inside a running sandbox. */
export async function writeWorkspace(
  exec: (command: readonly string[], io: ExecIo) => Promise<number>,
  target: { name: string; root: string },
  files: readonly WorkspaceFile[],
): Promise<{ written: number; unchanged: number }> {
  const bundle = JSON.stringify({ root: target.root, files: files.map((f) => ({ path: f.path, mode: f.mode, data: f.data.toString("base64") })) });
  const { code, out, err } = await execWithInput(exec, ["/usr/local/bin/node", "-e", WRITE], bundle);
  let counts: { written?: unknown; unchanged?: unknown } | undefined;
  try {
    counts = JSON.parse(out) as typeof counts;
  } catch {
    counts = undefined;
  }
  if (code !== 0 || typeof counts?.written !== "number" || typeof counts.unchanged !== "number") {
    throw new RuntimeError("workspace-copy", `could not copy the workspace into ${target.root} inside ${target.name} (exit ${code}): ${err.slice(-400) || out}`, "check the sandbox's disk (`openclaw nemoclaw <name> status`), then run onboard again");
  }
  return { written: counts.written, unchanged: counts.unchanged };
}
