// A Docker engine of the test's own: a second dockerd on its own socket, data root, exec root
// and pid file, no bridge and no iptables (like the shared one), which a test may stop and start
// (a real engine restart) or point nemoclaw at as another engine (DOCKER_HOST=unix://…), without
// touching the shared engine at /var/run/docker.sock. It starts empty: `copyImages` moves images
// over from the shared engine (docker save | docker load through the API; the base image takes
// about 6 s). It starts its own containerd under its exec root. Needs root, like dockerd.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";

export interface OwnDockerd {
  /** Folder holding everything of this engine: socket, data root, exec root, pid file, log. */
  readonly root: string;
  readonly socket: string;
  /** `unix://<socket>`, for DOCKER_HOST or the plugin's dockerHost. */
  readonly host: string;
  readonly docker: Docker;
  readonly log: string;
  /** Starts the engine (again) and resolves once it answers. */
  start(): Promise<void>;
  /** Stops it as an init system would (SIGTERM; it stops its containers) and waits until it is gone. */
  stop(): Promise<void>;
  /** Copies images from another engine (default: the shared one) that this one lacks. */
  copyImages(tags: readonly string[], from?: Docker): Promise<void>;
  /** Stops it and removes its folder (nothing of the shared engine is touched). */
  dispose(): Promise<void>;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, log: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = (await readFile(log, "utf8").catch(() => "")).split("\n").slice(-15).join("\n");
  throw new Error(`own dockerd: ${what} within ${timeoutMs} ms; last log lines:\n${tail}`);
}

/** Starts a dockerd under a fresh folder in /tmp (short paths: Unix socket paths are limited). */
export async function startOwnDockerd(prefix = "ndk"): Promise<OwnDockerd> {
  const root = await mkdtemp(`/tmp/${prefix}-`);
  const socket = path.join(root, "docker.sock");
  const log = path.join(root, "dockerd.log");
  const pidFile = path.join(root, "dockerd.pid");
  const docker = new Docker({ socketPath: socket });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const pings = () => docker.ping().then(() => true, () => false);
  const start = async (): Promise<void> => {
    if (child) return;
    const out = openSync(log, "a");
    const args = ["-H", `unix://${socket}`, "--data-root", path.join(root, "data"), "--exec-root", path.join(root, "x"), "--pidfile", pidFile];
    args.push("--bridge=none", "--iptables=false", "--ip6tables=false");
    const started = spawn("dockerd", args, { stdio: ["ignore", out, out] });
    closeSync(out);
    child = started;
    exited = new Promise((resolve) => started.once("exit", () => resolve()));
    void exited.then(() => {
      if (child === started) child = undefined;
    });
    await waitUntil(async () => (child === started ? pings() : Promise.reject(new Error("own dockerd exited at start; see its log"))), 60_000, "did not answer", log);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (!running) return;
    running.kill("SIGTERM");
    const killer = setTimeout(() => running.kill("SIGKILL"), 45_000);
    await exited;
    clearTimeout(killer);
    child = undefined;
    // Its containerd goes with it; the socket file stays behind and must not answer.
    await waitUntil(async () => !(await pings()), 10_000, "still answered after it exited", log);
  };

  const copyImages = async (tags: readonly string[], from: Docker = new Docker()): Promise<void> => {
    const missing: string[] = [];
    for (const tag of tags) if (!(await docker.getImage(tag).inspect().then(() => true, () => false))) missing.push(tag);
    if (missing.length === 0) return;
    // One archive for all of them: shared layers travel once.
    const archive = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      from.modem.dial({ path: "/images/get?", method: "GET", options: { names: missing }, isStream: true, statusCodes: { 200: true, 404: "no such image", 500: "server error" } }, (e, stream) =>
        e ? reject(e) : resolve(stream as NodeJS.ReadableStream),
      ),
    );
    const loading = await docker.loadImage(archive);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(loading, (e: Error | null, out: Array<{ error?: string }>) => {
      const failed = e ?? (out.find((o) => o.error) ? new Error(out.find((o) => o.error)?.error) : null);
      if (failed) reject(failed);
      else resolve();
    }));
  };

  const dispose = async (): Promise<void> => {
    await stop();
    // Mounts a crashed engine may leave under its folder (overlays, volumes, its exec root).
    const mounts = (await readFile("/proc/self/mounts", "utf8")).split("\n").map((l) => l.split(" ")[1] ?? "").filter((m) => m.startsWith(`${root}/`));
    for (const m of mounts.sort().reverse()) await execa("umount", ["-l", m], { reject: false });
    await rm(root, { recursive: true, force: true });
  };

  await start();
  return { root, socket, host: `unix://${socket}`, docker, log, start, stop, copyImages, dispose };
}
