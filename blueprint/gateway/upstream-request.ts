// One allowed request, forwarded upstream: hop-by-hop headers dropped both ways, plain HTTP or
// TLS verified against the name the sandbox asked for, a connect timeout (but none on slow
// responses: long polls and streamed completions stay quiet for minutes), one audit line when
// it ends. Used for absolute-form requests and for requests inside terminated tunnels.

import http from "node:http";
import https from "node:https";
import net from "node:net";
import { upstreamPort } from "./gateway-context.js";
import type { GatewayContext, InternalHandler } from "./gateway-context.js";
import type { Decision } from "./policy-engine.js";
import { swapPlaceholders } from "./placeholder-swap.js";
import type { Swap } from "./placeholder-swap.js";
import { denial, respond } from "./refusals.js";
import type { Tracked } from "./sandbox-state.js";

const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "http2-settings",
]);

/** Headers without the hop-by-hop ones (fixed, `proxy-*`, and those `Connection` names). */
export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const connection = headers.connection;
  const named = connection === undefined ? undefined : new Set(connection.split(",").map((h) => h.trim().toLowerCase()));
  const out: http.OutgoingHttpHeaders = {};
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || HOP_BY_HOP.has(key) || named?.has(key) === true || key.startsWith("proxy-")) continue;
    out[key] = value;
  }
  return out;
}

export interface ForwardTarget {
  host: string;
  port: number;
  /** The address authorization resolved and checked: what we connect to. */
  address: string;
  /** Origin-form target, forwarded as received. */
  target: string;
  decision: Decision;
  started: number;
  /** True inside a terminated tunnel: the upstream is spoken to over TLS. */
  tls: boolean;
  approvalId?: string;
}

/** Keep-alive agents of one (sandbox, caller) and the client connections using them. */
interface Pool {
  http: http.Agent;
  https: https.Agent;
  users: Set<Tracked>;
}

/**
 * Upstream connections are pooled per sandbox and caller identity (the whole caller record),
 * never across them: an upstream connection can carry authentication bound to it (NTLM,
 * Negotiate, TLS client state, server-side sessions keyed on the connection), which must not
 * serve another sandbox or another program. A pool lives while a client connection of its
 * caller is open.
 */
export class UpstreamForwarder {
  private readonly ctx: GatewayContext;
  private readonly pools = new Map<string, Pool>();
  /** The pool each client connection uses (its caller's, looked up once per connection). */
  private readonly poolOf = new WeakMap<Tracked, Pool>();

  constructor(ctx: GatewayContext) {
    this.ctx = ctx;
  }

  private pool(conn: Tracked): Pool {
    const known = this.poolOf.get(conn);
    if (known !== undefined) return known;
    const key = JSON.stringify([conn.sandbox, conn.caller]);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = { http: new http.Agent({ keepAlive: true, maxFreeSockets: 64 }), https: new https.Agent({ keepAlive: true, maxFreeSockets: 64 }), users: new Set() };
      this.pools.set(key, pool);
    }
    const used = pool;
    used.users.add(conn);
    this.poolOf.set(conn, used);
    conn.socket.once("close", () => {
      used.users.delete(conn);
      if (used.users.size > 0 || this.pools.get(key) !== used) return;
      this.pools.delete(key);
      used.http.destroy();
      used.https.destroy();
    });
    return used;
  }

  forward(conn: Tracked, req: http.IncomingMessage, res: http.ServerResponse, f: ForwardTarget): void {
    const handler = this.ctx.options.internalHandlers?.[f.host];
    if (handler !== undefined) {
      this.serveInternal(handler, conn, req, res, f);
      return;
    }
    const headers = endToEndHeaders(req.headers);
    // Without a credential source there is nothing to swap: no promise, no extra turn.
    if (this.ctx.options.credentials === undefined) {
      this.send(conn, req, res, f, { ok: true, target: f.target, headers, substituted: [] });
      return;
    }
    const encrypted = f.tls || this.ctx.options.internalHosts?.[f.host] !== undefined;
    void swapPlaceholders(this.ctx, conn.sandbox, f, f.target, headers, encrypted).then((swap) => {
      if (res.destroyed) return;
      if (!swap.ok) {
        this.ctx.record(conn, { decision: "deny", host: f.host, port: f.port, address: f.address, rule: f.decision.rule, reason: swap.reason, http: { method: req.method ?? "GET", target: f.target, scheme: f.tls ? "https" : "http" } });
        respond(res, swap.status, denial(swap.error, f.host, f.port, f.decision.rule, swap.reason, swap.next));
        return;
      }
      this.send(conn, req, res, f, swap);
    });
  }

  /** A name the runtime answers itself: no upstream, the handler gets the request (origin form, Host = the name). */
  private serveInternal(handler: InternalHandler, conn: Tracked, req: http.IncomingMessage, res: http.ServerResponse, f: ForwardTarget): void {
    const method = req.method ?? "GET";
    req.url = f.target;
    req.headers.host = f.host;
    res.once("close", () => {
      const http = { method, target: f.target, scheme: f.tls ? ("https" as const) : ("http" as const), status: res.statusCode };
      this.ctx.record(conn, { decision: "allow", host: f.host, port: f.port, address: f.address, rule: f.decision.rule, reason: `${f.decision.reason}; answered by the runtime`, http, durationMs: performance.now() - f.started });
    });
    handler(conn.sandbox, req, res);
  }

  /** The request upstream, with what the placeholder swap made of its target and headers. */
  private send(conn: Tracked, req: http.IncomingMessage, res: http.ServerResponse, f: ForwardTarget, swap: Extract<Swap, { ok: true }>): void {
    const { options } = this.ctx;
    const method = req.method ?? "GET";
    const headers = swap.headers;
    const internal = options.internalHosts?.[f.host] !== undefined;
    const pool = this.pool(conn);
    const common = { host: f.address, port: upstreamPort(options, f.host, f.port), method, path: swap.target, headers, setHost: false };
    const upstream = f.tls && !internal
      ? https.request({
          ...common,
          agent: pool.https,
          // Verified against the name the sandbox asked for (servername), or the literal address.
          // No per-request checkServerIdentity: a closure in the options defeats the agent's reuse.
          ...(net.isIP(f.host) === 0 ? { servername: f.host } : {}),
          ...(options.upstreamCa === undefined ? {} : { ca: options.upstreamCa }),
        })
      : http.request({ ...common, agent: pool.http });
    let up = 0;
    let down = 0;
    let status: number | undefined;
    let done = false;
    const finish = (reason: string): void => {
      if (done) return;
      done = true;
      this.ctx.record(conn, {
        decision: "allow",
        host: f.host,
        port: f.port,
        address: f.address,
        rule: f.decision.rule,
        reason,
        http: { method, target: f.target, scheme: f.tls ? "https" : "http", ...(status === undefined ? {} : { status }) },
        bytesUp: up,
        bytesDown: down,
        durationMs: performance.now() - f.started,
        auditOnly: f.decision.audit,
        ...(f.approvalId === undefined ? {} : { approvalId: f.approvalId }),
      });
    };
    upstream.on("socket", (s: net.Socket) => {
      s.setNoDelay(true);
      // A connect timeout only: long polls and slow streams may stay quiet for minutes.
      if (s.connecting) {
        const timer = setTimeout(() => upstream.destroy(Object.assign(new Error("connect timed out"), { code: "ETIMEDOUT" })), options.connectTimeoutMs);
        s.once("connect", () => clearTimeout(timer));
        s.once("close", () => clearTimeout(timer));
      }
    });
    upstream.on("response", (upRes) => {
      status = upRes.statusCode ?? 502;
      res.writeHead(status, upRes.statusMessage, endToEndHeaders(upRes.headers));
      upRes.on("data", (chunk: Buffer) => (down += chunk.length));
      upRes.pipe(res);
      upRes.on("end", () => finish(swap.substituted.length === 0 ? f.decision.reason : `${f.decision.reason}; credential substituted: ${swap.substituted.join(", ")}`));
      upRes.on("error", () => res.destroy());
      upRes.on("aborted", () => res.destroy());
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      finish(`${f.decision.reason}; upstream failed: ${error.code ?? error.message}`);
      if (!res.headersSent) {
        respond(res, 502, denial("upstream unreachable", f.host, f.port, f.decision.rule, `${f.host}:${f.port} (${f.address}): ${error.code ?? error.message}`, "check that the destination is up"));
      } else {
        res.destroy();
      }
    });
    if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) {
      // No body by HTTP/1.1's framing (the parser's, which decides where the next request starts): nothing to stream.
      upstream.end();
    } else {
      req.on("data", (chunk: Buffer) => (up += chunk.length));
      req.pipe(upstream);
    }
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  close(): void {
    for (const pool of this.pools.values()) {
      pool.http.destroy();
      pool.https.destroy();
    }
    this.pools.clear();
  }
}
