// CONNECT tunnels to endpoints that inspect requests (`protocol: rest`): the TLS is terminated
// with the sandbox's CA (a leaf for the CONNECT host; the SNI must name it), and the requests
// inside are parsed by a second HTTP server and checked one by one — each must name the
// tunnel's destination (Host header, or absolute-form URL) and pass the L7 rules — before
// being forwarded over TLS verified against the real upstream.

import http from "node:http";
import type net from "node:net";
import tls from "node:tls";
import { originForm, parseAuthority } from "./authority.js";
import { addressAllowed } from "./authorize.js";
import { HeadDeadlines } from "./head-deadline.js";
import type { GatewayContext } from "./gateway-context.js";
import { evaluateRequest, methodOverrides } from "./method-override.js";
import { OBSERVED_ADDRESS, observe } from "./observe.js";
import { canonicalHost } from "./policy-engine.js";
import type { RuleRef } from "./policy-engine.js";
import { denial, nextStep, refuseMalformed, refuseRaw, respond } from "./refusals.js";
import type { Tracked } from "./sandbox-state.js";
import type { UpstreamForwarder } from "./upstream-request.js";

interface Inner {
  conn: Tracked;
  host: string;
  port: number;
  address: string;
  /** False for plain HTTP sent through the CONNECT tunnel. */
  tls: boolean;
}

/** A TLS record starts with 0x16 (handshake); anything else in a fresh tunnel is plain HTTP. */
const TLS_HANDSHAKE = 0x16;

/** The tunnel's first byte, left in the socket to be read again (TLSSocket takes buffered bytes over). */
function firstByte(socket: net.Socket): Promise<number | undefined> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      socket.off("close", onClose);
      socket.pause();
      socket.unshift(chunk);
      resolve(chunk[0]);
    };
    const onClose = (): void => {
      socket.off("data", onData);
      resolve(undefined);
    };
    socket.once("data", onData);
    socket.once("close", onClose);
  });
}

export class TlsTerminator {
  private readonly ctx: GatewayContext;
  private readonly upstream: UpstreamForwarder;
  private readonly inner = new WeakMap<net.Socket, Inner>();
  private readonly server: http.Server;
  private readonly deadlines: HeadDeadlines;

  constructor(ctx: GatewayContext, upstream: UpstreamForwarder, serverOptions: http.ServerOptions) {
    this.ctx = ctx;
    this.upstream = upstream;
    this.deadlines = new HeadDeadlines(ctx.options.headersTimeoutMs);
    this.server = http.createServer(serverOptions);
    this.server.on("request", (req, res) => {
      this.deadlines.request(req, res);
      void this.onRequest(req, res);
    });
    this.server.on("upgrade", (_req: http.IncomingMessage, socket: net.Socket) => {
      refuseRaw(socket, 403, denial("upgrade refused", null, null, null, "protocol upgrades on inspected endpoints are not supported yet", "give the endpoint a policy without protocol: rest to tunnel it unread"));
    });
    this.server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => refuseMalformed(ctx, this.inner.get(socket)?.conn, error, socket));
  }

  /** Answers the CONNECT, terminates TLS on the client's side and serves its requests. */
  async terminate(conn: Tracked, socket: net.Socket, head: Buffer, host: string, port: number, address: string): Promise<void> {
    const leaves = this.ctx.sandbox(conn.sandbox)?.leaves;
    if (leaves === undefined) {
      socket.destroy();
      return;
    }
    const context = await leaves.context(host);
    if (socket.destroyed) return;
    socket.setTimeout(0);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    // undici's proxy agent (Node's fetch) tunnels http:// through CONNECT as well: plain HTTP
    // inside is read as such, checked the same way, and forwarded as plain HTTP.
    if ((await firstByte(socket)) !== TLS_HANDSHAKE) {
      if (socket.destroyed) return;
      this.inner.set(socket, { conn, host, port, address, tls: false });
      this.server.emit("connection", socket);
      socket.resume();
      return;
    }
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (servername, callback) => {
        const sni = canonicalHost(servername);
        if (sni !== host) {
          const reason = `TLS SNI "${servername}" does not match the CONNECT target ${host}`;
          this.ctx.record(conn, { decision: "deny", host, port, address, rule: null, reason });
          callback(new Error(reason), undefined);
          return;
        }
        callback(null, context);
      },
    });
    conn.linked.add(secure);
    secure.on("error", () => socket.destroy());
    // The handshake is bounded like a request head: a client that never finishes it is closed.
    const handshake = setTimeout(() => secure.destroy(), this.ctx.options.headersTimeoutMs);
    handshake.unref();
    secure.once("close", () => clearTimeout(handshake));
    secure.once("secure", () => {
      clearTimeout(handshake);
      this.inner.set(secure, { conn, host, port, address, tls: true });
      this.deadlines.watch(secure);
      this.server.emit("connection", secure);
    });
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const ctx = this.inner.get(req.socket);
    if (ctx === undefined) {
      req.socket.destroy();
      return;
    }
    const { conn, host, port, address, tls: secure } = ctx;
    const method = req.method ?? "GET";
    const started = performance.now();
    let target = req.url ?? "/";
    const deny = (status: number, error: string, rule: RuleRef | null, reason: string): void => {
      this.ctx.record(conn, { decision: "deny", host, port, address, rule, reason, http: { method, target, scheme: "https" } });
      respond(res, status, denial(error, host, port, rule, reason, nextStep(conn.sandbox, "policy")));
    };
    const absolute = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(target);
    if (absolute !== null) {
      const named = parseAuthority(absolute[2], absolute[1]?.toLowerCase() === "http" ? 80 : 443);
      if (named === undefined || named.host !== host || named.port !== port) {
        return deny(403, "host mismatch", null, `absolute-form URL ${target.slice(0, 200)} inside the tunnel to ${host}:${port} names another destination`);
      }
      target = originForm(absolute[3] ?? "");
    }
    const hostHeader = parseAuthority(req.headers.host, port === 443 ? 443 : port);
    if (hostHeader === undefined || hostHeader.host !== host || hostHeader.port !== port) {
      return deny(403, "host mismatch", null, `Host header "${req.headers.host ?? ""}" does not name the tunnel's destination ${host}:${port}`);
    }
    // A tunnel opened only to observe never goes upstream, whatever the policy became since.
    if (address === OBSERVED_ADDRESS) {
      const refusal = observe(this.ctx, conn, host, port, { method, target, overrides: methodOverrides(req.headers), scheme: secure ? "https" : "http" });
      respond(res, refusal.status, refusal.body);
      return;
    }
    const state = this.ctx.sandbox(conn.sandbox);
    if (state === undefined) return deny(403, "sandbox removed", null, "the sandbox is no longer registered");
    const matched = state.engine.match(host, port, conn.caller);
    const candidates = matched.candidates.filter((c) => addressAllowed(this.ctx.options, host, address, c.endpoint.allowed_ips).allowed);
    if (candidates.length === 0) return deny(403, "denied by policy", matched.rule, matched.action === "allow" ? `${address} is not allowed for this endpoint any more` : matched.reason);
    const decision = evaluateRequest(candidates, { method, target, overrides: methodOverrides(req.headers) });
    if (decision.action !== "allow") return deny(403, "denied by policy", decision.rule, decision.reason);
    this.upstream.forward(conn, req, res, { host, port, address, target, decision, started, tls: secure });
  }

  close(): void {
    this.server.closeAllConnections();
  }
}
