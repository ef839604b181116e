// The host side of a gateway sandbox's relay: the sandboxed gateway's port, on the host's
// loopback, as if the gateway ran here. Each TCP connection is carried over the sandbox's relay
// socket (sandbox/gateway-inside.ts), which the supervisor inside connects to the gateway's
// 127.0.0.1:18789. Listens on 127.0.0.1 only: nothing reaches it from another machine.
import net from "node:net";
import { RuntimeError } from "../state/runtime-error.js";

export const RELAY_HOST = "127.0.0.1";

/** Listens on 127.0.0.1:<port> (0: any free port) and pipes each connection to `socket`. */
export function startHostRelay(socket: string, port: number): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(socket);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new RuntimeError("port-in-use", `${RELAY_HOST}:${port} is already in use on this host`, "stop what listens there (a host OpenClaw gateway?) or pick another port with --port")
          : e,
      ),
    );
    server.listen({ host: RELAY_HOST, port, exclusive: true }, () => resolve(server));
  });
}
