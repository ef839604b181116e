/**
 * Become another program in this same process (execve): same pid, so the parent's signals and
 * wait() reach the new program. Node ≥ 23.11 on POSIX; without it, carrying on would leave the
 * gateway on the host, so this exits 78 ("do not restart") with a message instead.
 */
export function replaceProcess(file: string, args: readonly string[]): never {
  if (typeof process.execve !== "function") {
    process.stderr.write(`nemoclaw: cannot relaunch the gateway in its sandbox: this Node (${process.version}) has no process.execve\n  run OpenClaw with Node 24\n`);
    process.exit(78);
  }
  return process.execve(file, [file, ...args], process.env);
}
