// A minimal client of OpenClaw's gateway WebSocket protocol (v4), enough to be an approval
// client: the connect handshake, requests and events. The host runtime cannot use OpenClaw's own
// GatewayClient (the runtime is a sealed bundle and OpenClaw is the operator's install), so it
// speaks the same frames OpenClaw's `createOperatorApprovalsGatewayClient` sends:
//   ← event connect.challenge {nonce}
//   → req connect {client {id: "gateway-client", mode: "backend"}, role: "operator",
//                  scopes: ["operator.approvals"], caps: ["approvals"], auth {token}}
//   ← res hello-ok
// A backend client on the gateway's loopback with the shared token keeps its scopes without a
// device identity (OpenClaw's local-backend rule), which is why only the host, through the relay
// socket, and the gateway's own domain (the token is in its config) can be this client.

import type net from "node:net";
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { z } from "zod";

const PROTOCOL_VERSION = 4;

const EventFrame = z.object({ type: z.literal("event"), event: z.string(), payload: z.unknown().optional() });
const ResponseFrame = z.object({
  type: z.literal("res"),
  id: z.string(),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: z.object({ code: z.string().optional(), message: z.string().optional() }).passthrough().optional(),
});

export class GatewayRequestError extends Error {
  readonly code: string | undefined;

  constructor(method: string, code: string | undefined, message: string) {
    super(`${method}: ${message}`);
    this.code = code;
    this.name = "GatewayRequestError";
  }
}

export interface GatewayClientOptions {
  /** Opens the byte stream to the gateway (e.g. the relay socket). */
  connect: () => net.Socket;
  token: string;
  displayName: string;
  scopes?: string[];
  onEvent?: (event: string, payload: unknown) => void;
  /** The connection ended (after a successful handshake). */
  onClose?: (reason: string) => void;
  handshakeTimeoutMs?: number;
}

interface Pending {
  method: string;
  resolve: (payload: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class OpenclawGatewayClient {
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  private readonly ws: WebSocket;
  private readonly options: GatewayClientOptions;

  private constructor(ws: WebSocket, options: GatewayClientOptions) {
    this.ws = ws;
    this.options = options;
  }

  /** Connects and completes the handshake; rejects with the gateway's reason when it refuses. */
  static connect(options: GatewayClientOptions): Promise<OpenclawGatewayClient> {
    const ws = new WebSocket("ws://127.0.0.1/", { createConnection: () => options.connect(), perMessageDeflate: false });
    const client = new OpenclawGatewayClient(ws, options);
    return client.handshake();
  }

  private handshake(): Promise<OpenclawGatewayClient> {
    const { ws, options } = this;
    return new Promise((resolve, reject) => {
      let connected = false;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        if (!connected) reject(error);
        ws.terminate();
      };
      const timer = setTimeout(() => fail(new Error("the gateway did not complete the handshake in time")), options.handshakeTimeoutMs ?? 15_000);
      ws.on("error", (e) => fail(e));
      ws.on("close", (code, reason) => {
        const why = `gateway closed the connection (${code}${reason.length > 0 ? `: ${reason.toString("utf8")}` : ""})`;
        if (!connected) fail(new Error(why));
        this.shutdown(why);
      });
      ws.on("message", (data) => {
        let frame: unknown;
        try {
          frame = JSON.parse(data.toString());
        } catch {
          return;
        }
        const event = EventFrame.safeParse(frame);
        if (event.success) {
          if (event.data.event === "connect.challenge") {
            this.request("connect", this.connectParams(), 15_000).then(
              () => {
                connected = true;
                clearTimeout(timer);
                resolve(this);
              },
              (e: Error) => fail(e),
            );
          } else if (connected) options.onEvent?.(event.data.event, event.data.payload);
          return;
        }
        const res = ResponseFrame.safeParse(frame);
        if (!res.success) return;
        const waiting = this.pending.get(res.data.id);
        if (waiting === undefined) return;
        this.pending.delete(res.data.id);
        clearTimeout(waiting.timer);
        if (res.data.ok) waiting.resolve(res.data.payload);
        else waiting.reject(new GatewayRequestError(waiting.method, res.data.error?.code, res.data.error?.message ?? "refused"));
      });
    });
  }

  private connectParams(): Record<string, unknown> {
    return {
      minProtocol: PROTOCOL_VERSION,
      maxProtocol: PROTOCOL_VERSION,
      client: { id: "gateway-client", displayName: this.options.displayName, version: "nemoclaw", platform: process.platform, mode: "backend" },
      caps: ["approvals"],
      auth: { token: this.options.token },
      role: "operator",
      scopes: this.options.scopes ?? ["operator.approvals"],
    };
  }

  /** Sends a request; resolves with the response payload. `timeoutMs` undefined = wait as long as the connection lives. */
  request(method: string, params: unknown, timeoutMs?: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`${method}: the gateway connection is closed`));
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from the gateway in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.ws.send(JSON.stringify({ type: "req", id, method, params }), (e) => {
        if (e === undefined || e === null) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(): void {
    this.shutdown("closed by nemoclaw");
    this.ws.close();
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.reject(new Error(`${waiting.method}: ${reason}`));
    }
    this.options.onClose?.(reason);
  }
}
