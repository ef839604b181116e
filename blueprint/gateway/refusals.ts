// How the gateway says no: every refusal is a JSON body `{error, host, port, rule, reason, next}`,
// sent as an HTTP response (inside a parsed request) or written raw on a socket (CONNECT,
// malformed requests, bad preambles), always with what to do next.

import type http from "node:http";
import type net from "node:net";
import type { GatewayContext } from "./gateway-context.js";
import type { RuleRef } from "./policy-engine.js";
import type { Tracked } from "./sandbox-state.js";

/** The JSON body of every refusal. */
export interface DenialBody {
  error: string;
  host: string | null;
  port: number | null;
  rule: RuleRef | null;
  reason: string;
  next: string;
}

export function denial(error: string, host: string | null, port: number | null, rule: RuleRef | null, reason: string, next: string): DenialBody {
  return { error, host, port, rule, reason, next };
}

/** The operator's next step: approve or add a policy for unknown destinations, edit it otherwise. */
export function nextStep(sandbox: string, kind: "unknown" | "policy"): string {
  return kind === "unknown"
    ? `ask the operator to approve it (openclaw nemoclaw approvals, then approve <id>) or to add a policy (openclaw nemoclaw ${sandbox} policy add-preset <name> | policy set <file>)`
    : `ask the operator to change the policy (openclaw nemoclaw ${sandbox} policy get, edit, then policy set <file>)`;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Writes a complete refusal on a socket outside any HTTP exchange, then closes it. */
export function refuseRaw(socket: net.Socket, status: number, body: DenialBody): void {
  if (socket.destroyed) return;
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
  lingerDraining(socket);
}

/** How long, and how much, a refused connection is still read from after its answer. */
const LINGER_MS = 2_000;
const LINGER_BYTES = 1024 * 1024;

/**
 * Closing a socket with unread input makes the kernel report a reset to the peer (on the proxy
 * socket: ECONNRESET for the forwarder), which can overtake the answer just written — a 431 for
 * an oversized head arrives while the rest of that head is still coming. So the refused
 * connection's input is read and dropped until the peer closes, for at most LINGER_MS and
 * LINGER_BYTES, then it is destroyed.
 */
function lingerDraining(socket: net.Socket): void {
  let drained = 0;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) socket.destroy();
  });
  socket.once("end", () => socket.destroy());
  socket.once("close", () => clearTimeout(timer));
  socket.resume();
}

/** Answers a parsed request with a refusal, keeping the connection usable. */
export function respond(res: http.ServerResponse, status: number, body: DenialBody): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const json = JSON.stringify(body);
  // Discard the refused request's body so the connection stays usable for the next one.
  res.req.resume();
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

/** Status and reason for a request Node's parser refused (`clientError`). */
export function malformedRequest(error: NodeJS.ErrnoException, maxHeaderSize: number): { status: number; reason: string } {
  const code = error.code ?? "";
  if (code === "HPE_HEADER_OVERFLOW") return { status: 431, reason: `request head larger than ${maxHeaderSize} bytes` };
  if (code === "HPE_UNEXPECTED_CONTENT_LENGTH" || code === "HPE_INVALID_TRANSFER_ENCODING" || code === "HPE_INVALID_CONTENT_LENGTH") {
    return { status: 400, reason: `ambiguous message framing (${code}): refused as possible request smuggling` };
  }
  return { status: 400, reason: `malformed HTTP (${code || error.message})` };
}

/** `clientError` on either HTTP parser: audit it, then refuse (or just close a dead socket). */
export function refuseMalformed(ctx: GatewayContext, conn: Tracked | undefined, error: NodeJS.ErrnoException, socket: net.Socket): void {
  const { status, reason } = malformedRequest(error, ctx.options.maxHeaderSize);
  if (conn !== undefined) ctx.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  refuseRaw(socket, status, denial("bad request", null, null, null, reason, "send one well-formed HTTP/1.1 request (absolute-form or CONNECT)"));
}
