// Who is on the other end of a loopback connection to the forwarder, from /proc.
//
// The identity is the executable of the processes holding the client's socket, and it must be
// sound: every process in the sandbox is looked at, in every thread (a thread can have a file
// table of its own), and none is skipped.
//   - no holder found                        → unidentified
//   - a process whose file table cannot be read (non-dumpable, EACCES) → unidentified: it may be
//     the sender, and naming another holder would let it borrow that one's identity
//   - holders running different executables   → unidentified, naming them (one may be an idle
//     allowed binary that inherited the socket while another sends)
// Processes whose every uid is 0 are left out: they are ours (tini, the supervisor, a launcher
// before it drops to the workload user). The workload can never become root — the launcher sets
// no_new_privs and empties every capability set, bounding included, before it execs — so no
// process it controls can hide behind uid 0.
//
// Ancestors (parents up to the supervisor) are recorded for the operator, never matched.
// The executable's content is hashed through /proc/<pid>/exe (the file that was executed, even
// if its path now names another), cached by device, inode, size, mtime and ctime so a 100 MB
// node is read once.
//
// Node built-ins only (staged alone into containers).
import { createHash } from "node:crypto";
import { closeSync, createReadStream, fstatSync, openSync, readdirSync, readlinkSync } from "node:fs";
import { MAX_ANCESTORS, unidentifiedCaller, type Caller } from "./caller-preamble.js";
import { procStatus, readProcFile } from "./proc.js";

export interface Ids {
  uid: number;
  gid: number;
}

/**
 * Runs `fn` with effective uid and gid `id` (synchronously: nothing else runs meanwhile). The
 * ptrace access check behind /proc/<pid>/fd and /exe wants uid and gid both to match.
 */
export function asUser<T>(id: Ids, fn: () => T): T {
  const switchIds = process.geteuid?.() === 0;
  if (switchIds) {
    process.setegid?.(id.gid);
    process.seteuid?.(id.uid);
  }
  try {
    return fn();
  } finally {
    if (switchIds) {
      process.seteuid?.(0);
      process.setegid?.(0);
    }
  }
}

/** Inode of the TCP socket whose local port is `clientPort` and remote port `serverPort`. */
export function socketInode(clientPort: number, serverPort: number, tables: readonly string[]): string | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
  const local = `:${hex(clientPort)}`;
  const remote = `:${hex(serverPort)}`;
  for (const table of tables) {
    for (const line of table.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, localAddress, remoteAddress] = fields;
      const inode = fields[9];
      if (localAddress?.endsWith(local) && remoteAddress?.endsWith(remote) && inode && inode !== "0") return inode;
    }
  }
  return undefined;
}

function readOr(file: string): string {
  return readProcFile(file) ?? "";
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? "error";
}

/** True when every uid of the process (real, effective, saved, filesystem) is 0. Undefined: it is gone. */
function allRoot(pid: string): boolean | undefined {
  const status = procStatus(pid);
  if (status.Uid === undefined) return undefined;
  const uids = status.Uid.split(/\s+/);
  return uids.length === 4 && uids.every((u) => u === "0");
}

function commOf(pid: number): string {
  return readOr(`/proc/${pid}/comm`).trim() || "?";
}

export interface HolderScan {
  holders: number[];
  /** Processes whose file tables could not be read, with why. */
  hidden: Array<{ pid: number; comm: string; code: string }>;
}

/** Every process (other than this one and root's) holding a descriptor on socket `inode`, in any thread. */
export function scanHolders(inode: string, self: number = process.pid): HolderScan {
  const target = `socket:[${inode}]`;
  const holders: number[] = [];
  const hidden: HolderScan["hidden"] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === self) continue;
    const root = allRoot(entry);
    if (root === undefined || root) continue;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${entry}/task`);
    } catch (e) {
      if (errnoOf(e) !== "ENOENT") hidden.push({ pid: Number(entry), comm: commOf(Number(entry)), code: errnoOf(e) });
      continue;
    }
    let holds = false;
    for (const task of tasks) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${entry}/task/${task}/fd`);
      } catch (e) {
        // ENOENT: the thread (or process) exited meanwhile and holds nothing any more.
        if (errnoOf(e) !== "ENOENT") {
          hidden.push({ pid: Number(entry), comm: commOf(Number(entry)), code: errnoOf(e) });
          break;
        }
        continue;
      }
      for (const fd of fds) {
        try {
          if (readlinkSync(`/proc/${entry}/task/${task}/fd/${fd}`) === target) {
            holds = true;
            break;
          }
        } catch {
          // fd closed meanwhile
        }
      }
      if (holds) break;
    }
    if (holds) holders.push(Number(entry));
  }
  return { holders, hidden };
}

function exeOf(pid: number): string | null {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    return exe.startsWith("/") ? exe : null;
  } catch {
    return null;
  }
}

function parentOf(pid: number): number {
  const stat = readOr(`/proc/${pid}/stat`);
  // The command name may contain spaces and parentheses; fields resume after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[1] ?? 0);
}

function ancestorsOf(pid: number, self: number): string[] {
  const ancestors: string[] = [];
  const seen = new Set([pid]);
  for (let p = parentOf(pid); p > 1 && p !== self && !seen.has(p) && ancestors.length < MAX_ANCESTORS; p = parentOf(p)) {
    seen.add(p);
    const exe = exeOf(p);
    if (exe) ancestors.push(exe);
  }
  return ancestors;
}

/**
 * What the synchronous scan found: an unidentified caller (`passing` when what stopped it is what a
 * process being started looks like for a moment), or the holders with their executables open for
 * hashing.
 */
export type Scanned =
  | { ok: false; caller: Caller; passing?: true }
  | { ok: true; exe: string; ancestors: string[]; holders: Array<{ pid: number; exeFd: number }> };

/** The /proc part of identification; run it as the workload's user (asUser). Opens the executables. */
export function scanCaller(clientPort: number, serverPort: number, self: number = process.pid): Scanned {
  const inode = socketInode(clientPort, serverPort, [readOr("/proc/net/tcp"), readOr("/proc/net/tcp6")]);
  if (inode === undefined) return { ok: false, caller: unidentifiedCaller("the connection is not in /proc/net/tcp (it closed)") };
  const { holders, hidden } = scanHolders(inode, self);
  if (hidden.length > 0) {
    const who = hidden.map((h) => `pid ${h.pid} (${h.comm}: ${h.code})`).join(", ");
    return { ok: false, passing: true, caller: unidentifiedCaller(`cannot inspect every process that might hold the connection: ${who}; while a non-dumpable process runs in the sandbox, callers cannot be identified`) };
  }
  const named = holders.map((pid) => ({ pid, exe: exeOf(pid) }));
  const first = named[0];
  if (first === undefined) return { ok: false, caller: unidentifiedCaller("no process in the sandbox holds the connection") };
  const unnamed = named.find((h) => h.exe === null);
  if (unnamed !== undefined) return { ok: false, passing: true, caller: unidentifiedCaller(`the executable of pid ${unnamed.pid} (${commOf(unnamed.pid)}), which holds the connection, cannot be read`) };
  if (new Set(named.map((h) => h.exe)).size > 1) {
    return { ok: false, passing: true, caller: unidentifiedCaller(`the processes holding the connection run different executables: ${named.map((h) => `${h.exe} (pid ${h.pid})`).join(", ")}`) };
  }
  const opened: Array<{ pid: number; exeFd: number }> = [];
  for (const h of named) {
    try {
      opened.push({ pid: h.pid, exeFd: openSync(`/proc/${h.pid}/exe`, "r") });
    } catch (e) {
      for (const o of opened) closeSync(o.exeFd);
      return { ok: false, caller: unidentifiedCaller(`cannot open the executable of pid ${h.pid} (${errnoOf(e)})`) };
    }
  }
  return { ok: true, exe: first.exe as string, ancestors: ancestorsOf(first.pid, self), holders: opened };
}

/** sha256 of executables, keyed by what changes when the file does. */
export class ExeHashes {
  readonly #done = new Map<string, string>();
  readonly #running = new Map<string, Promise<string>>();

  /** Hashes the open file `fd` (closing it). */
  hash(fd: number): Promise<string> {
    let key: string;
    try {
      const st = fstatSync(fd, { bigint: true });
      key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch (e) {
      closeSync(fd);
      return Promise.reject(e);
    }
    const known = this.#done.get(key);
    if (known !== undefined) {
      closeSync(fd);
      return Promise.resolve(known);
    }
    const running = this.#running.get(key);
    if (running !== undefined) {
      closeSync(fd);
      return running;
    }
    const promise = new Promise<string>((resolve, reject) => {
      const hash = createHash("sha256");
      createReadStream("", { fd, autoClose: true })
        .on("data", (chunk) => hash.update(chunk))
        .on("error", reject)
        .on("end", () => resolve(hash.digest("hex")));
    }).then(
      (digest) => {
        this.#running.delete(key);
        if (this.#done.size >= 1024) this.#done.clear();
        this.#done.set(key, digest);
        return digest;
      },
      (e: unknown) => {
        this.#running.delete(key);
        throw e;
      },
    );
    this.#running.set(key, promise);
    return promise;
  }
}

/**
 * Waits before each new scan when one stopped at what a process being started looks like: a
 * launcher that has taken the workload's uid is not dumpable until its execve (the kernel's rule
 * for a process that changed uid, and runc's own choice for `docker exec`), so its file table
 * reads EACCES; in the middle of an execve, /proc/<pid>/exe can already name the new program (or
 * nothing) while the old one's close-on-exec descriptors are still open. Measured on the host: a
 * `setpriv --reuid=1000 true` loop made 134 of 2155 scans (6%) meet one. Every scan stands on its
 * own (nothing from an earlier one is kept), so one that passes proves what it would alone; a
 * process that stays non-dumpable, or holders that keep disagreeing, are refused after the last.
 */
export const RESCAN_DELAYS_MS = [2, 10, 30, 80] as const;

/** Full identification: the /proc scan as the workload's user, then the executables' hashes (all must agree). */
export async function identifyCaller(clientPort: number, serverPort: number, ids: Ids, hashes: ExeHashes): Promise<Caller> {
  let scanned = asUser(ids, () => scanCaller(clientPort, serverPort));
  for (const delay of RESCAN_DELAYS_MS) {
    if (scanned.ok || !scanned.passing) break;
    await new Promise((r) => setTimeout(r, delay));
    scanned = asUser(ids, () => scanCaller(clientPort, serverPort));
  }
  if (!scanned.ok) return scanned.caller;
  let digests: string[];
  try {
    digests = await Promise.all(scanned.holders.map((h) => hashes.hash(h.exeFd)));
  } catch (e) {
    return unidentifiedCaller(`cannot read the executable ${scanned.exe} (${errnoOf(e)})`);
  }
  const [sha256] = digests;
  if (sha256 === undefined || digests.some((d) => d !== sha256)) {
    return unidentifiedCaller(`the processes holding the connection run different files at ${scanned.exe} (pids ${scanned.holders.map((h) => h.pid).join(", ")})`);
  }
  return { pid: scanned.holders[0]?.pid ?? null, exe: scanned.exe, sha256, ancestors: scanned.ancestors, unidentified: null };
}
