// The egress handler used until the gateway exists: every request is answered 403 with a JSON
// body that says why, naming the caller the forwarder identified. Node's HTTP server parses the
// request (absolute-form or CONNECT); only the preamble line before it is read by hand.
import http from "node:http";
import type net from "node:net";
import { MAX_PREAMBLE_BYTES, parsePreamble, type Caller } from "../gateway/caller-preamble.js";
import type { EgressHandler } from "./egress-handler.js";

export const REFUSED_ERROR = "egress gateway not enabled";

/** Reads the preamble line; resolves with the caller and the bytes after it. */
export function readCallerLine(socket: net.Socket, timeoutMs = 5000): Promise<{ caller: Caller; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
    };
    const onEnd = (): void => {
      done();
      reject(new Error("connection closed before the caller preamble"));
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(0x0a);
      if (newline === -1 && buffered.length < MAX_PREAMBLE_BYTES) return;
      done();
      socket.pause();
      if (newline === -1 || newline >= MAX_PREAMBLE_BYTES) return reject(new Error("caller preamble too long"));
      try {
        resolve({ caller: parsePreamble(buffered.subarray(0, newline).toString("utf8")), rest: buffered.subarray(newline + 1) });
      } catch (e) {
        reject(new Error(`malformed caller preamble: ${(e as Error).message.split("\n")[0]}`));
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error("no caller preamble in time"));
    }, timeoutMs);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onEnd);
  });
}

function refusal(sandbox: string, caller: Caller, target: string): string {
  return JSON.stringify({
    error: REFUSED_ERROR,
    sandbox,
    target,
    caller,
    hint: "this nemoclaw runtime has no egress gateway yet, so every destination is refused",
  });
}

export function refuseAllEgress(): EgressHandler {
  const sockets = new Set<net.Socket>();
  return {
    handle(sandbox, socket) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      readCallerLine(socket).then(
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
