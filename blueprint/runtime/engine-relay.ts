// The host end of the engine relay (docs/architecture.md, "Remote engines"). For a sandbox on an
// engine that is not on this host, the daemon keeps one `docker exec` of the sealed
// supervisor's engine-relay.js running in it, and connects every connection the relay announces
// to the sandbox's proxy socket here, which the egress gateway serves as for any sandbox.
//
// For a gateway sandbox it also carries the other direction: while the relay is attached, the
// daemon listens on the sandbox's gateway relay socket here (the path a local gateway sandbox's
// supervisor would create through its bind mount: 0600, in a 0700 folder of ours) and announces
// each connection to the relay inside, which connects it to the gateway's socket there. Whoever
// reaches the gateway of a local sandbox (launch's port relay, chat approvals, the status feed)
// reaches a remote one the same way. When the relay ends, so does that socket.
//
// While the daemon serves the sandbox it keeps trying: a stopped container, an engine restart
// or a broken exec stream only mean "attach again when it runs" (every 1 s at first, then up to
// every 10 s; `kick()` tries now, as create/start do right after the container started).
import { chmod, unlink } from "node:fs/promises";
import net from "node:net";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { NODE_PATH, PROXY_SOCKET, BLUEPRINT_MOUNT } from "../sandbox/container-spec.js";
import { RelayMux } from "../supervisor/relay-mux.js";

export const ENGINE_RELAY_SCRIPT = `${BLUEPRINT_MOUNT}/supervisor/engine-relay.js`;

export interface EngineRelay {
  /** Resolves when the relay inside listens (or after `timeoutMs`, false). */
  ready(timeoutMs: number): Promise<boolean>;
  /** Try to attach now instead of at the next retry. */
  kick(): void;
  /** Connections being carried. */
  connections(): number;
  close(): Promise<void>;
}

export interface EngineRelayOptions {
  docker: Docker;
  container: string;
  /** The sandbox's proxy socket on this host: where the forwarder's connections go. */
  proxySocket: string;
  /** A gateway sandbox: `host` is where to listen here, `inside` the gateway's relay socket in the sandbox. */
  gateway?: { host: string; inside: string };
  log: (line: string) => void;
}

/** Listens on `socketPath` (0600 from the start) and hands every connection to `mux`. */
async function listenForGateway(socketPath: string, mux: RelayMux): Promise<net.Server> {
  await unlink(socketPath).catch(() => undefined);
  const server = net.createServer({ allowHalfOpen: true }, (socket) => mux.accept(socket));
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(mask);
  }
  await chmod(socketPath, 0o600);
  return server;
}

export function attachEngineRelay(options: EngineRelayOptions): EngineRelay {
  const { docker, container, proxySocket, gateway, log } = options;
  let closed = false;
  let attached: { mux: RelayMux; stream: NodeJS.ReadWriteStream; gatewayServer?: Promise<net.Server | undefined> } | undefined;
  let isReady = false;
  let waiters: Array<(ok: boolean) => void> = [];
  let delay = 1000;
  let timer: NodeJS.Timeout | undefined;
  let attempt: Promise<void> | undefined;
  let gatewayClosed: Promise<void> = Promise.resolve();

  const settle = (ok: boolean) => {
    for (const w of waiters.splice(0)) w(ok);
  };

  const schedule = () => {
    if (closed || attached || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void tryAttach();
    }, delay);
    delay = Math.min(delay * 2, 10_000);
  };

  const tryAttach = (): Promise<void> =>
    (attempt ??= (async () => {
      try {
        if (closed || attached) return;
        const info = await docker.getContainer(container).inspect();
        if (!info.State.Running) return;
        const exec = await docker.getContainer(container).exec({
          Cmd: [NODE_PATH, ENGINE_RELAY_SCRIPT, PROXY_SOCKET, ...(gateway ? [gateway.inside] : [])],
          User: "0:0",
          // The container's environment carries the supervisor's configuration (the caller
          // secret); the relay has no use for it.
          Env: ["NEMOCLAW_SUPERVISOR="],
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
        });
        const stream = (await exec.start({ hijack: true, stdin: true })) as unknown as NodeJS.ReadWriteStream & { destroy?: () => void };
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        docker.modem.demuxStream(stream, stdout, stderr);
        stderr.on("data", (c: Buffer) => log(`${container}: ${c.toString("utf8").trimEnd()}`));
        const mux: RelayMux = new RelayMux(
          { input: stdout, output: stream as unknown as NodeJS.WritableStream & import("node:stream").Writable },
          {
            side: "host",
            onOpen: () => net.connect({ path: proxySocket, allowHalfOpen: true }),
            onReady: () => {
              const current = attached;
              if (gateway && current?.mux === mux && !current.gatewayServer) {
                // After the previous attachment's socket is gone: its removal must not take this one.
                current.gatewayServer = gatewayClosed.then(() => listenForGateway(gateway.host, mux)).catch((e: Error) => {
                  log(`${container}: cannot listen on the gateway relay socket ${gateway.host}: ${e.message}`);
                  return undefined;
                });
              }
              void (current?.gatewayServer ?? Promise.resolve()).then(() => {
                isReady = true;
                delay = 1000;
                settle(true);
              });
            },
            onError: (e) => log(`${container}: relay stream broken: ${e.message}`),
          },
        );
        attached = { mux, stream };
        const gone = () => {
          if (attached?.stream !== stream) return;
          const { gatewayServer } = attached;
          attached = undefined;
          isReady = false;
          mux.close();
          gatewayClosed = closeGatewayServer(gatewayServer);
          if (!closed) log(`${container}: engine relay ended; attaching again when it runs`);
          schedule();
        };
        stream.on("end", gone);
        stream.on("close", gone);
        stream.on("error", gone);
      } catch (e) {
        if (!closed) log(`${container}: cannot attach the engine relay yet: ${(e as Error).message}`);
      } finally {
        attempt = undefined;
        schedule();
      }
    })());

  const closeGatewayServer = async (server: Promise<net.Server | undefined> | undefined): Promise<void> => {
    const listening = await server;
    if (!listening || !gateway) return;
    await new Promise<void>((resolve) => listening.close(() => resolve()));
    await unlink(gateway.host).catch(() => undefined);
  };

  void tryAttach();

  return {
    ready(timeoutMs) {
      if (isReady) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        const done = (ok: boolean) => {
          clearTimeout(t);
          resolve(ok);
        };
        waiters.push(done);
      });
    },
    kick() {
      if (attached || closed) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      delay = 1000;
      void tryAttach();
    },
    connections: () => attached?.mux.size ?? 0,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      settle(false);
      const current = attached;
      attached = undefined;
      current?.mux.close();
      gatewayClosed = closeGatewayServer(current?.gatewayServer);
      await gatewayClosed;
      current?.stream.end();
      (current?.stream as { destroy?: () => void } | undefined)?.destroy?.();
    },
  };
}
