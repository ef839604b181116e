// Plain-HTTP proxy requests (`GET http://host:port/path`): the URL names the destination, the
// Host header must agree, `https://` is refused (HTTPS goes through CONNECT so it can be
// inspected or tunnelled), then authorization and L7 rules per request, then forwarding.

import type http from "node:http";
import { originForm, parseAuthority } from "./authority.js";
import type { Authorizer } from "./authorize.js";
import type { GatewayContext } from "./gateway-context.js";
import { methodOverrides } from "./method-override.js";
import { observe, observes } from "./observe.js";
import { denial, nextStep, respond } from "./refusals.js";
import type { Tracked } from "./sandbox-state.js";
import type { UpstreamForwarder } from "./upstream-request.js";

export async function handleAbsoluteForm(
  ctx: GatewayContext,
  authorizer: Authorizer,
  upstream: UpstreamForwarder,
  conn: Tracked,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = req.url ?? "";
  const method = req.method ?? "GET";
  const m = /^http:\/\/([^/?#]*)(.*)$/is.exec(url);
  if (m === null) {
    const reason = /^https:\/\//i.test(url) ? "https URLs go through CONNECT, not absolute-form requests" : "not a proxy request: expected an absolute-form http:// URL";
    ctx.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
    respond(res, 400, denial("bad request", null, null, null, reason, "set HTTP_PROXY/HTTPS_PROXY to http://127.0.0.1:3128"));
    return;
  }
  const authority = parseAuthority(m[1], 80);
  const target = originForm(m[2] ?? "");
  if (authority === undefined || !target.startsWith("/")) {
    const reason = `"${m[1] ?? ""}" is not a valid host[:port]`;
    ctx.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
    respond(res, 400, denial("bad request", null, null, null, reason, "send an absolute-form URL such as http://example.com/path"));
    return;
  }
  const { host, port } = authority;
  const hostHeader = parseAuthority(req.headers.host, 80);
  if (hostHeader === undefined || hostHeader.host !== host || hostHeader.port !== port) {
    const reason = `Host header "${req.headers.host ?? ""}" does not name the request URL's host ${host}:${port}`;
    ctx.record(conn, { decision: "deny", host, port, rule: null, reason, http: { method, target, scheme: "http" } });
    respond(res, 403, denial("host mismatch", host, port, null, reason, "send a Host header equal to the URL's host"));
    return;
  }
  if (observes(ctx, conn, host, port)) {
    const refusal = observe(ctx, conn, host, port, { method, target, overrides: methodOverrides(req.headers), scheme: "http" });
    respond(res, refusal.status, refusal.body);
    return;
  }
  const started = performance.now();
  const granted = await authorizer.authorize(conn, host, port, { method, target, overrides: methodOverrides(req.headers) });
  if (!granted.ok) {
    respond(res, granted.status, granted.body);
    return;
  }
  const { decision, address } = granted;
  if (decision.action !== "allow") {
    ctx.record(conn, { decision: "deny", host, port, address, rule: decision.rule, reason: decision.reason, http: { method, target, scheme: "http" } });
    respond(res, 403, denial("denied by policy", host, port, decision.rule, decision.reason, nextStep(conn.sandbox, "policy")));
    return;
  }
  const approval = granted.approvalId === undefined ? {} : { approvalId: granted.approvalId };
  conn.uses.set(`${host}:${port}`, { host, port, address, mode: "http", ...(granted.approvalId === undefined ? {} : { pinned: true }) });
  upstream.forward(conn, req, res, { host, port, address, target, decision, started, tls: false, ...approval });
}
