// A second, private Docker engine for one test file: its own API socket, data root, exec root and
// pid file, no bridge and no iptables (like the shared one), so nothing the test does there is
// seen by other suites and the test can treat it as "another machine's" engine. The images the
// test needs are copied from the shared engine over the Engine API (save | load, streamed).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";

export interface OwnDockerd {
  /** `unix://<socket>`, for dockerHost / DOCKER_HOST. */
  url: string;
  socketPath: string;
  docker: Docker;
  /** Seconds it took to answer, and to copy the images in. */
  startSeconds: number;
  loadSeconds: number;
  /** Stops the engine (its containers with it) and removes its folders. */
  stop(): Promise<void>;
}

export interface OwnDockerdOptions {
  /** Image tags to copy from `from` (the shared engine). */
  images?: string[];
  from?: Docker;
}

export async function startOwnDockerd(options: OwnDockerdOptions = {}): Promise<OwnDockerd> {
  const root = await mkdtemp(path.join(os.tmpdir(), "nc-dockerd-"));
  const socketPath = path.join(root, "docker.sock");
  const log = await open(path.join(root, "dockerd.log"), "w");
  const started = performance.now();
  const child: ChildProcess = spawn(
    "dockerd",
    [
      "-H", `unix://${socketPath}`,
      "--data-root", path.join(root, "data"),
      "--exec-root", path.join(root, "exec"),
      "--pidfile", path.join(root, "dockerd.pid"),
      "--bridge=none", "--iptables=false", "--ip6tables=false",
    ],
    { stdio: ["ignore", log.fd, log.fd] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const docker = new Docker({ socketPath });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await log.close().catch(() => {});
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode}; log: ${path.join(root, "dockerd.log")}`);
      try {
        await docker.ping();
        break;
      } catch {
        if (i > 300) throw new Error("dockerd did not answer within 60 s");
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const startSeconds = (performance.now() - started) / 1000;
    const loadStarted = performance.now();
    for (const tag of options.images ?? []) {
      const from = options.from ?? new Docker({ socketPath: "/var/run/docker.sock" });
      const tarball = await from.getImage(tag).get();
      const answer = await docker.loadImage(tarball);
      await new Promise<void>((resolve, reject) => docker.modem.followProgress(answer, (e) => (e ? reject(e) : resolve())));
      await docker.getImage(tag).inspect();
    }
    return { url: `unix://${socketPath}`, socketPath, docker, startSeconds, loadSeconds: (performance.now() - loadStarted) / 1000, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
