// A test egress handler for sandbox tests that need the daemon but not the gateway: every request
// is answered 403 with a JSON body naming the caller the forwarder identified. Node's HTTP server parses the
// request (absolute-form or CONNECT); only the preamble line before it is read by hand.
import http from "node:http";
import type net from "node:net";
import { readPreamble, secretCheck, type Caller } from "../../blueprint/gateway/caller.js";
import type { EgressHandler } from "../../blueprint/gateway/egress-handler.js";
import { readCallerSecretSync } from "../../blueprint/state/caller-secret.js";
import { sandboxCallerSecretFile } from "../../blueprint/state/paths.js";

export const REFUSED_ERROR = "egress gateway not enabled";

function refusal(sandbox: string, caller: Caller, target: string): string {
  return JSON.stringify({
    error: REFUSED_ERROR,
    sandbox,
    target,
    caller,
    hint: "this test daemon runs without the egress gateway, so every destination is refused",
  });
}

/** `stateDir`: where the sandboxes' caller secrets are, checked as the gateway checks them. */
export function refuseAllEgress(stateDir: string): EgressHandler {
  const sockets = new Set<net.Socket>();
  return {
    handle(sandbox, socket) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      const secret = readCallerSecretSync(sandboxCallerSecretFile(stateDir, sandbox));
      readPreamble(socket, { secret: secret === undefined ? () => false : secretCheck(secret) }).then(
        ({ caller, rest }) => {
          const server = http.createServer((request, response) => {
            const body = refusal(sandbox, caller, request.url ?? "");
            response.writeHead(403, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" });
            response.end(body);
          });
          server.on("connect", (request: http.IncomingMessage, client: net.Socket) => {
            const body = refusal(sandbox, caller, request.url ?? "");
            client.end(
              `HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
            );
          });
          server.on("clientError", (_e, client: net.Socket) => client.destroy());
          if (rest.length > 0) socket.unshift(rest);
          server.emit("connection", socket);
          socket.resume();
        },
        () => socket.destroy(),
      );
    },
    async close() {
      for (const socket of sockets) socket.destroy();
    },
  };
}
