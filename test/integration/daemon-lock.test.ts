// One daemon per state dir, by a lock no other local user can take: a socket inside the 0700
// state dir (it used to be an abstract socket, which any local user could squat so that every
// new daemon exited and all egress was refused).
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { DaemonRunningError, startDaemon, type Daemon } from "../../blueprint/runtime/daemon.js";
import { daemonLockFile } from "../../blueprint/state/paths.js";
import { refuseAllEgress } from "../helpers/refuse-all-egress.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-lock-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function daemon(dir: string): Promise<Daemon> {
  const d = await startDaemon({ stateDir: dir, egress: refuseAllEgress(dir), log: () => {} });
  cleanup.push(() => d.close());
  return d;
}

describe("the daemon lock", () => {
  it("is a 0600 socket inside the 0700 state dir, refuses a second daemon, and goes with the daemon", async () => {
    const dir = await stateDir();
    const first = await daemon(dir);
    const lock = daemonLockFile(dir);
    expect(path.dirname(lock)).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(lock).isSocket()).toBe(true);
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    await expect(startDaemon({ stateDir: dir, egress: refuseAllEgress(dir), log: () => {} })).rejects.toBeInstanceOf(DaemonRunningError);
    await first.close();
    expect(() => statSync(lock)).toThrow(/ENOENT/);
  });

  it("a squatter on the old abstract name does not stop a daemon from starting", async () => {
    const dir = await stateDir();
    const oldName = `\0nemoclaw-daemon-${createHash("sha256").update(path.resolve(dir)).digest("hex").slice(0, 24)}`;
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(oldName, resolve));
    cleanup.push(() => new Promise((resolve) => squatter.close(resolve)));
    const d = await daemon(dir);
    expect(d.stateDir).toBe(dir);
  });

  it("a lock left by a killed daemon is stale and taken over", async () => {
    const dir = await stateDir();
    // A process that listens on the lock path and is killed: the socket file stays, nobody answers.
    const child = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(daemonLockFile(dir))}, () => process.stdout.write("up"))`]);
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(statSync(daemonLockFile(dir)).isSocket()).toBe(true);
    const d = await daemon(dir);
    expect(d.served()).toEqual([]);
  });
});
