// CONNECT host:port: the target names the destination (a Host header, if sent, must agree),
// authorization decides it, then either a pure byte tunnel to the checked address, or — for
// endpoints that inspect requests — TLS termination (tls-terminate.ts).
//
// A pure tunnel is not read, except its first client bytes: when they are a TLS ClientHello,
// its server name (SNI) must be the CONNECT host — otherwise one allowed name on a shared
// front (a CDN, a cloud load balancer) would carry TLS to any other name it serves. A hello
// without SNI is refused for a named host (every client sends it for names) and accepted for
// an address literal (clients never send it for addresses). Tunnels whose first bytes are not
// a TLS handshake (other protocols on `protocol: tcp` endpoints) pass unread; server-first
// protocols work since upstream bytes flow from the start.

import type http from "node:http";
import net from "node:net";
import { parseAuthority } from "./authority.js";
import type { Authorizer } from "./authorize.js";
import { upstreamPort } from "./gateway-context.js";
import type { GatewayContext } from "./gateway-context.js";
import { MAX_CLIENT_HELLO, peekClientHello } from "./client-hello.js";
import { canonicalHost } from "./policy-engine.js";
import type { Decision } from "./policy-engine.js";
import { OBSERVED_ADDRESS, observe, observes } from "./observe.js";
import { credentialBound } from "./placeholder-swap.js";
import { denial, refuseRaw } from "./refusals.js";
import type { Tracked } from "./sandbox-state.js";
import type { TlsTerminator } from "./tls-terminate.js";

export async function handleConnect(
  ctx: GatewayContext,
  authorizer: Authorizer,
  terminator: TlsTerminator,
  conn: Tracked,
  req: http.IncomingMessage,
  socket: net.Socket,
  head: Buffer,
): Promise<void> {
  const target = parseAuthority(req.url, undefined);
  if (target === undefined) {
    const reason = `CONNECT target "${req.url ?? ""}" is not host:port`;
    ctx.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
    refuseRaw(socket, 400, denial("bad request", null, null, null, reason, "CONNECT host:port"));
    return;
  }
  const { host, port } = target;
  if (req.headers.host !== undefined) {
    const hostHeader = parseAuthority(req.headers.host, port);
    if (hostHeader === undefined || hostHeader.host !== host || hostHeader.port !== port) {
      const reason = `Host header "${req.headers.host}" does not name the CONNECT target ${host}:${port}`;
      ctx.record(conn, { decision: "deny", host, port, rule: null, reason });
      refuseRaw(socket, 403, denial("host mismatch", host, port, null, reason, "send a Host header equal to the CONNECT target"));
      return;
    }
  }
  if (observes(ctx, conn, host, port)) {
    // Terminated to read what is asked inside; each request is then refused (tls-terminate.ts).
    observe(ctx, conn, host, port);
    await terminator.terminate(conn, socket, head, host, port, OBSERVED_ADDRESS);
    return;
  }
  const granted = await authorizer.authorize(conn, host, port);
  if (!granted.ok) {
    refuseRaw(socket, granted.status, granted.body);
    return;
  }
  if (socket.destroyed) return;
  const { address, decision } = granted;
  const pinned = granted.approvalId === undefined ? {} : { pinned: true };
  // Read requests where the rules say so, and where a credential is bound (to swap its placeholder in).
  const bound = !decision.inspect && (await credentialBound(ctx, conn.sandbox, host, port));
  if (socket.destroyed) return;
  if (decision.inspect || bound) {
    conn.uses.set(`${host}:${port}`, { host, port, address, mode: "terminated", ...pinned });
    ctx.record(conn, { decision: "allow", host, port, address, rule: decision.rule, reason: `${decision.reason} (TLS terminated${bound ? ": a credential is bound here" : ""})` });
    await terminator.terminate(conn, socket, head, host, port, address);
    return;
  }
  conn.uses.set(`${host}:${port}`, { host, port, address, mode: "tunnel", ...pinned });
  tunnel(ctx, conn, socket, head, { host, port, address, decision, ...(granted.approvalId === undefined ? {} : { approvalId: granted.approvalId }) });
}

interface TunnelTarget {
  host: string;
  port: number;
  address: string;
  decision: Decision;
  approvalId?: string;
}

/** Why the tunnel's first client bytes may not go to `host`, or undefined when they may (so far: "need-more"). */
function sniProblem(data: Buffer, host: string): { problem?: string; alert?: number; needMore?: true } {
  const peek = peekClientHello(data);
  if (peek.state === "need-more") return data.length > MAX_CLIENT_HELLO + 1024 ? { problem: "TLS ClientHello larger than 64 KiB", alert: 50 } : { needMore: true };
  if (peek.state === "not-tls") return {};
  if (peek.state === "malformed") return { problem: peek.reason, alert: 50 }; // decode_error
  if (peek.sni === null) {
    return net.isIP(host) !== 0 ? {} : { problem: `TLS ClientHello names no server (SNI) for the CONNECT target ${host}`, alert: 112 }; // unrecognized_name
  }
  return canonicalHost(peek.sni) === host ? {} : { problem: `TLS SNI "${peek.sni.slice(0, 255)}" does not match the CONNECT target ${host}`, alert: 112 };
}

/** A pure byte tunnel to the checked address; opened (200) only once the upstream accepted. */
function tunnel(ctx: GatewayContext, conn: Tracked, socket: net.Socket, head: Buffer, t: TunnelTarget): void {
  const { host, port, address, decision, approvalId } = t;
  const started = performance.now();
  const upstream = net.connect({ host: address, port: upstreamPort(ctx.options, host, port), noDelay: true });
  conn.linked.add(upstream);
  let open = false;
  let refused = false;
  // Client bytes are held until the first ones are known not to be a TLS hello to another name.
  const checkFirstBytes = (): void => {
    let buffered = head;
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      decide();
    };
    const decide = (): void => {
      const verdict = sniProblem(buffered, host);
      if (verdict.needMore === true) return;
      socket.off("data", onData);
      socket.pause();
      if (verdict.problem !== undefined) {
        refused = true;
        ctx.record(conn, { decision: "deny", host, port, address, rule: decision.rule, reason: verdict.problem });
        // A fatal TLS alert: the client's TLS stack reports it instead of a bare reset.
        socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, verdict.alert ?? 40]));
        socket.destroySoon();
        upstream.destroy();
        return;
      }
      if (buffered.length > 0) upstream.write(buffered);
      socket.pipe(upstream);
    };
    socket.on("data", onData);
    if (buffered.length > 0) decide();
    if (!socket.destroyed && socket.listenerCount("data") > 0) socket.resume();
  };
  upstream.setTimeout(ctx.options.connectTimeoutMs, () => upstream.destroy(new Error("connect timed out")));
  upstream.once("connect", () => {
    open = true;
    upstream.setTimeout(0);
    ctx.record(conn, { decision: "allow", host, port, address, rule: decision.rule, reason: decision.reason, ...(approvalId === undefined ? {} : { approvalId }) });
    socket.setTimeout(0);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    upstream.pipe(socket);
    checkFirstBytes();
  });
  upstream.on("error", (error: NodeJS.ErrnoException) => {
    if (!open) {
      ctx.record(conn, { decision: "deny", host, port, address, rule: decision.rule, reason: `upstream unreachable: ${error.code ?? error.message}` });
      refuseRaw(socket, 502, denial("upstream unreachable", host, port, decision.rule, `${host}:${port} (${address}): ${error.code ?? error.message}`, "check that the destination is up"));
    }
    socket.destroy();
  });
  upstream.once("close", () => {
    conn.linked.delete(upstream);
    if (!refused) socket.destroy();
    if (open && !refused) {
      ctx.record(conn, { decision: "close", host, port, address, rule: decision.rule, reason: "tunnel closed", bytesUp: upstream.bytesWritten, bytesDown: upstream.bytesRead, durationMs: performance.now() - started });
    }
  });
  socket.once("close", () => upstream.destroy());
}
