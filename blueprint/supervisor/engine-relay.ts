// The in-sandbox end of the engine relay (docs/architecture.md, "Remote engines"): when the
// engine is not on this host, no host socket can be bind-mounted, so the host daemon runs this
// as root in the sandbox with one long-lived `docker exec` and holds its stdin and stdout. It
// listens on the proxy socket's usual path (0600, root: the workload cannot connect) and carries
// every connection the supervisor's forwarder makes over that one stream; the host end connects
// each to the sandbox's real proxy socket. Bytes, caller preamble included, are copied as they are.
//
// In a gateway sandbox it also carries the other direction: each connection the host end
// announces (someone on the host reached the sandbox's gateway relay socket there) is connected
// here to the gateway's relay socket inside, the one the supervisor listens on. That target is
// fixed by the command line; an announcement names no destination.
//
// When stdin ends (the daemon, the engine connection or the container went away), the socket is
// removed and the relay exits: the forwarder then answers 503, egress fails closed.
//
//   node engine-relay.js /run/nemoclaw/proxy.sock [/run/nemoclaw-gateway/gateway.sock]
import { unlinkSync } from "node:fs";
import net from "node:net";
import { RelayMux } from "./relay-mux.js";

const socketPath = process.argv[2] ?? "/run/nemoclaw/proxy.sock";
const gatewaySocket = process.argv[3];
const mux = new RelayMux(
  { input: process.stdin, output: process.stdout },
  {
    side: "sandbox",
    ...(gatewaySocket ? { onOpen: () => net.connect({ path: gatewaySocket, allowHalfOpen: true }) } : {}),
    onError: (e) => finish(`${e.message}`),
  },
);
const server = net.createServer({ allowHalfOpen: true }, (socket) => mux.accept(socket));

function finish(why: string): void {
  process.stderr.write(`engine-relay: ${why}\n`);
  try {
    unlinkSync(socketPath);
  } catch {
    // already gone
  }
  mux.close();
  server.close();
  process.exit(0);
}

try {
  unlinkSync(socketPath);
} catch {
  // nothing there yet
}
// 0600 from the start: no moment in which the workload could connect.
process.umask(0o177);
server.on("error", (e) => finish(`cannot listen on ${socketPath}: ${e.message}`));
server.listen(socketPath, () => {
  process.stderr.write(`engine-relay: listening on ${socketPath}\n`);
  mux.ready();
});
process.stdin.on("end", () => finish("the host end closed"));
process.stdin.on("error", () => finish("the host end failed"));
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => finish(signal));
