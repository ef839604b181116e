// The sandboxed OpenClaw gateway, seen from the supervisor: its port relayed out over a Unix
// socket (the sandbox has no network). Its config is seeded like any workload's (workload-seed.ts).
//
// The socket lives in a folder of the host's run dir bind-mounted read-write at
// /run/nemoclaw-gateway (no Landlock rule names it, so neither the gateway nor its tools can see
// it). It is created with the folder owner's uid (the host user running nemoclaw: root here holds
// no CAP_CHOWN, and the host side must be able to connect), mode 0600, so the workload's uid
// cannot connect to it even where it can see it. Each accepted stream is connected, as root
// outside Landlock, to the gateway's loopback port inside.
import { mkdirSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { asUser } from "./identify.js";

export interface GatewaySupervisorConfig {
  /** The gateway's loopback port inside (its Landlock domain may bind exactly this one). */
  port: number;
  /** Absolute path of the relay socket inside. */
  socket: string;
}

export function parseGatewayConfig(raw: unknown): GatewaySupervisorConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  const g = raw as Partial<GatewaySupervisorConfig>;
  if (!Number.isInteger(g.port) || (g.port as number) < 1 || (g.port as number) > 65535) throw new Error("config.gateway.port must be a TCP port");
  if (typeof g.socket !== "string" || !g.socket.startsWith("/")) throw new Error("config.gateway.socket must be an absolute path");
  return { port: g.port as number, socket: g.socket };
}

/**
 * Where the gateway's Node compile cache lives: on the /sandbox volume, in a folder only the
 * gateway's domain reaches (the tools' domain has /sandbox/workspace and its own /tmp folder).
 * OpenClaw keeps the cache under os.tmpdir(), /tmp/node-compile-cache, which is a tmpfs emptied at
 * every container start, so every start compiled OpenClaw afresh (on the host: 7.9 s to ready
 * cold, 5.4 s warm).
 */
export const GATEWAY_COMPILE_CACHE = "/sandbox/.cache/openclaw-compile-cache";
const TMP_COMPILE_CACHE = "/tmp/node-compile-cache";

/**
 * The cache folder, made as the workload, and /tmp/node-compile-cache pointing at it. The link is
 * root's, in root's sticky /tmp, so the workload can neither replace it nor is it refused by
 * protected_symlinks; what it points at is the workload's own, so nothing of anyone else's is
 * written through it.
 */
export function keepCompileCache(workload: { uid: number; gid: number }): void {
  asUser(workload, () => mkdirSync(GATEWAY_COMPILE_CACHE, { recursive: true, mode: 0o700 }));
  try {
    symlinkSync(GATEWAY_COMPILE_CACHE, TMP_COMPILE_CACHE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
}

/** Listens on the relay socket; each stream goes to 127.0.0.1:<port> inside. */
export function startGatewayRelay(config: GatewaySupervisorConfig): Promise<net.Server> {
  const dir = path.dirname(config.socket);
  const st = statSync(dir);
  const owner = { uid: st.uid, gid: st.gid };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: config.port });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // bind(2) on a path happens synchronously inside listen(), under the owner's ids.
    asUser(owner.uid === 0 ? { uid: 0, gid: 0 } : owner, () => {
      // The previous run's socket (a restart): removed under the owner's ids, not tested with access(2).
      try {
        unlinkSync(config.socket);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      const mask = process.umask(0o177);
      try {
        server.listen(config.socket, () => resolve(server));
      } finally {
        process.umask(mask);
      }
    });
  });
}
