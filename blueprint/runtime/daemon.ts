// The host daemon: one long-running process per state directory. It serves every sandbox's
// proxy socket (<stateDir>/sandboxes/<name>/run/proxy.sock, bind-mounted at /run/nemoclaw inside)
// with the egress handler, and the control API on <stateDir>/control.sock.
//
// One per state dir: a lock held for the process's lifetime, a Unix socket inside the 0700 state
// dir (daemon.lock), so no other local user can squat it. A daemon that died leaves the socket
// file behind but nothing listens on it: a connect that is refused proves it stale, and the next
// daemon replaces it. daemon.pid is for people and tools. Fail closed: when the daemon is gone the proxy
// sockets refuse connections, and the sandbox's forwarder answers 503; a new daemon re-creates
// the sockets in the same (bind-mounted) directories, so running sandboxes reconnect as they are.
import { existsSync } from "node:fs";
import { chmod, readdir, rm, stat, unlink } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { z } from "zod";
import { SandboxNameSchema } from "../state/sandbox-name.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import {
  controlSocketFile,
  daemonLockFile,
  daemonPidFile,
  proxySocketFile,
  sandboxesDir,
  sandboxPolicyFile,
  sandboxRecordFile,
  sandboxRunDir,
} from "../state/paths.js";
import { ensureStateDir } from "../state/state-file.js";
import { runtimeIdentity } from "../state/runtime-files.js";
import { ControlRouter, RouteError } from "../control/router.js";
import { x509Library } from "../ca/sandbox-ca.js";
import type { EgressContext, EgressHandler, EgressHandlerFactory } from "../gateway/egress-handler.js";
import { createEgressHandler } from "../gateway/egress-service.js";
import type { EgressHandlerWithGateway } from "../gateway/egress-service.js";
import { ChatApprovals } from "./chat-approvals.js";
import { ChatStatusFeed } from "./chat-status-feed.js";
import { CredentialStore } from "../credentials/store.js";
import { InferenceRouter } from "../inference/router.js";
import { ROUTER_HOST } from "../inference/endpoints.js";
import { mountInferenceRoutes } from "./inference-routes.js";
import { mountRelayRoutes } from "./relay-routes.js";
import { attachEngineRelay, type EngineRelay } from "./engine-relay.js";
import { createDockerClient } from "../sandbox/docker-client.js";
import { sandboxContainerName } from "../sandbox/container-spec.js";
import type { RemoteEngine } from "../sandbox/egress-path.js";
import { GATEWAY_RELAY_SOCKET, gatewaySocketFile } from "../sandbox/gateway-inside.js";
import { SandboxRegistry } from "../sandbox/registry.js";

export interface DaemonOptions {
  stateDir: string;
  /** The egress handler, or a factory given the daemon's context. Default: the egress gateway. */
  egress?: EgressHandler | EgressHandlerFactory;
  log?: (message: string) => void;
}

export const HealthSchema = z
  .object({
    ok: z.literal(true),
    pid: z.number().int(),
    version: z.string(),
    digest: z.string(),
    startedAt: z.string(),
    egress: z.string(),
    sandboxes: z.array(z.string()),
  })
  .strict();
export type Health = z.infer<typeof HealthSchema>;

const NameBody = z.object({ name: SandboxNameSchema }).strict();
const ServeBody = z
  .object({
    name: SandboxNameSchema,
    remote: z.object({ dockerHost: z.string().optional(), waitReadyMs: z.number().int().min(0).max(120_000).optional() }).strict().optional(),
  })
  .strict();

export class DaemonRunningError extends Error {
  constructor(stateDir: string) {
    super(`a nemoclaw daemon already runs for ${stateDir}`);
    this.name = "DaemonRunningError";
  }
}

export interface Daemon {
  readonly router: ControlRouter;
  readonly stateDir: string;
  serve(name: string, remote?: RemoteEngine): Promise<void>;
  release(name: string): Promise<void>;
  served(): string[];
  /** Resolves when the daemon has shut down (close() or POST /shutdown). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Takes the state dir's daemon lock, or throws DaemonRunningError when a live daemon holds it. */
async function takeLock(stateDir: string): Promise<net.Server> {
  const file = daemonLockFile(stateDir);
  const lock = net.createServer((socket) => socket.destroy());
  for (let attempt = 0; ; attempt++) {
    try {
      await listen(lock, file);
      await chmod(file, 0o600);
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt > 0) throw e;
    }
    if (await answers(file)) throw new DaemonRunningError(stateDir);
    // Left by a daemon that died: nothing listens there any more.
    await unlink(file).catch(() => undefined);
  }
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function listen(server: net.Server, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(target, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const stateDir = path.resolve(options.stateDir);
  const log = options.log ?? ((m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`));
  await ensureStateDir(stateDir);

  const lock = await takeLock(stateDir);

  const identity = runtimeIdentity();
  const startedAt = new Date().toISOString();
  const router = new ControlRouter();
  const proxies = new Map<string, net.Server>();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

  // One credential store and one inference router per state dir. The gateway answers
  // inference.local with the router (the policy decides who may reach it) and swaps placeholders
  // from the store into requests to the endpoints credentials are bound to.
  const credentials = new CredentialStore(stateDir);
  const inference = new InferenceRouter({ stateDir, credentials });
  const context: EgressContext = {
    stateDir,
    router,
    policyFile: (name) => sandboxPolicyFile(stateDir, name),
    sandboxes: () => [...proxies.keys()].sort(),
    internalHandlers: {
      [ROUTER_HOST]: (sandbox, req, res) => {
        inference.handle(sandbox, req, res).catch((e: Error) => {
          log(`inference: ${sandbox}: ${e.message}`);
          res.destroy();
        });
      },
    },
    credentials,
    log,
  };
  mountInferenceRoutes(router, { stateDir, credentials, routes: inference.routes, reload: (name) => inference.reload(name) });
  const factory: EgressHandler | EgressHandlerFactory = options.egress ?? createEgressHandler;
  const egressName = options.egress === undefined ? "gateway" : "custom";
  const egress: EgressHandler = typeof factory === "function" ? await factory(context) : factory;
  // Held requests of gateway sandboxes are also prompted in the operator's chat (chat-approvals.ts).
  const chat = "gateway" in egress ? new ChatApprovals({ stateDir, gateway: (egress as EgressHandlerWithGateway).gateway, log }) : undefined;
  chat?.start();
  // What `/nemoclaw status|policy|logs` show in a gateway sandbox's chat (chat-status-feed.ts).
  const feed = "gateway" in egress ? new ChatStatusFeed({ stateDir, egress: egress as EgressHandlerWithGateway, routes: inference.routes, log }) : undefined;
  feed?.start();

  const relays = mountRelayRoutes(router, stateDir, log);

  // Sandboxes on a remote engine: the exec that carries their proxy socket (engine-relay.ts).
  const engineRelays = new Map<string, EngineRelay>();
  const serveRemote = async (name: string, remote: RemoteEngine): Promise<void> => {
    let relay = engineRelays.get(name);
    if (!relay) {
      // A gateway sandbox's relay socket is carried the other way over the same exec.
      const record = await new SandboxRegistry(stateDir).get(name).catch(() => undefined);
      relay = attachEngineRelay({
        docker: createDockerClient(remote.dockerHost),
        container: sandboxContainerName(name),
        proxySocket: proxySocketFile(stateDir, name),
        ...(record?.gateway ? { gateway: { host: gatewaySocketFile(stateDir, name), inside: GATEWAY_RELAY_SOCKET } } : {}),
        log,
      });
      engineRelays.set(name, relay);
    } else relay.kick();
    if (remote.waitReadyMs && !(await relay.ready(remote.waitReadyMs))) {
      throw new RouteError(504, `the engine relay in sandbox ${name} did not start within ${remote.waitReadyMs} ms (see ${path.join(stateDir, "daemon.log")})`);
    }
  };

  const serve = async (name: string, remote?: RemoteEngine): Promise<void> => {
    await serveLocal(name);
    if (remote) await serveRemote(name, remote);
  };

  const serveLocal = async (name: string): Promise<void> => {
    const socketPath = proxySocketFile(stateDir, name);
    const existing = proxies.get(name);
    if (existing && existsSync(socketPath)) return;
    if (existing) {
      proxies.delete(name);
      await closeServer(existing);
    }
    if (!existsSync(sandboxRunDir(stateDir, name))) throw new RouteError(404, `sandbox ${name} has no run directory`);
    // Ours is the only daemon for this state dir (the lock), so anything there is stale.
    await unlink(socketPath).catch(() => undefined);
    const server = net.createServer((socket) => egress.handle(name, socket));
    await listen(server, socketPath);
    // Only root (the supervisor, inside) may connect: the workload, uid 1000, must not reach the
    // proxy except through the forwarder, which is what vouches for the caller preamble.
    await chmod(socketPath, 0o600);
    proxies.set(name, server);
    void feed?.serve(name);
    log(`serving ${name} on ${socketPath}`);
  };

  const release = async (name: string): Promise<void> => {
    const server = proxies.get(name);
    await relays.closeOne(name);
    feed?.release(name);
    await engineRelays.get(name)?.close();
    engineRelays.delete(name);
    if (!server) return;
    proxies.delete(name);
    await closeServer(server);
    await unlink(proxySocketFile(stateDir, name)).catch(() => undefined);
    log(`released ${name}`);
  };

  const control = http.createServer(router.handle);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      log("shutting down");
      control.closeAllConnections();
      await closeServer(control);
      await unlink(controlSocketFile(stateDir)).catch(() => undefined);
      await relays.close();
      for (const name of [...proxies.keys()]) await release(name);
      feed?.close();
      await chat?.close();
      await egress.close();
      await inference.close();
      await rm(daemonPidFile(stateDir), { force: true });
      await closeServer(lock);
      await unlink(daemonLockFile(stateDir)).catch(() => undefined);
      resolveClosed();
    })());

  router.addRoute("GET", "/health", (): Health => ({
    ok: true,
    pid: process.pid,
    version: identity.version,
    digest: identity.digest,
    startedAt,
    egress: egressName,
    sandboxes: context.sandboxes(),
  }));
  router.addRoute("POST", "/sandboxes/serve", async ({ name, remote }) => serve(name, remote).then(() => ({ ok: true, socket: proxySocketFile(stateDir, name) })), ServeBody);
  router.addRoute("POST", "/sandboxes/release", async ({ name }) => release(name).then(() => ({ ok: true })), NameBody);
  router.addRoute("POST", "/shutdown", () => {
    setImmediate(() => void close());
    return { ok: true };
  }, z.object({}).strict());

  // Sandboxes created earlier get their sockets back before the control socket answers, so a
  // /health that lists a sandbox means it is served. After a daemon restart, a running sandbox
  // reconnects without being recreated.
  const names = await readdir(sandboxesDir(stateDir)).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (!SandboxNameSchema.safeParse(name).success) continue;
    if (!(await stat(sandboxRecordFile(stateDir, name)).catch(() => undefined))) continue;
    const remote = await new SandboxRegistry(stateDir).get(name).then((r) => r.remote ?? undefined, () => undefined);
    await serve(name, remote).catch((e: Error) => log(`cannot serve ${name}: ${e.message}`));
  }
  const controlPath = controlSocketFile(stateDir);
  await unlink(controlPath).catch(() => undefined);
  await listen(control, controlPath);
  await chmod(controlPath, 0o600);

  await writeFileAtomic(daemonPidFile(stateDir), `${process.pid}\n`, { mode: 0o644 });
  log(`nemoclaw daemon ${identity.version} (pid ${process.pid}) for ${stateDir}; egress: ${egressName}`);

  return { router, stateDir, serve, release, served: context.sandboxes, closed, close };
}

/** `node main.js daemon <stateDir>`: run until SIGTERM/SIGINT or POST /shutdown. */
export async function runDaemonMain(stateDir: string | undefined): Promise<number> {
  if (!stateDir) {
    process.stderr.write("usage: main.js daemon <stateDir>\n");
    return 64;
  }
  let daemon: Daemon;
  try {
    // The daemon outlives the CLI call that started it, and OpenClaw deletes that call's copy of
    // the package when it exits (docs/architecture.md, "CLI speed"): every module the daemon will
    // ever import must be loaded now. The certificate library is the one loaded lazily elsewhere.
    await x509Library();
    daemon = await startDaemon({ stateDir });
  } catch (e) {
    process.stderr.write(`nemoclaw daemon: ${(e as Error).message}\n`);
    return e instanceof DaemonRunningError ? 0 : 1;
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void daemon.close());
  process.on("SIGHUP", () => undefined);
  await daemon.closed;
  return 0;
}
