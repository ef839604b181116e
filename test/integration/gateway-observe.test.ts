// Observe mode (egress_mode: observe) on the real gateway over real sockets: nothing reaches the
// upstream even when the policy allows it, nothing is held, each attempt is refused at once and
// recorded with its method and path — for HTTPS too, since every CONNECT is terminated with the
// sandbox CA — marked with whether the policy would have allowed it; in-process names the policy
// allows (inference.local) are still served. Switching back to enforce lets allowed traffic out.
// What the sandbox is told is enforce mode's answer, word for word: nothing inside says "observed".
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAuditEvents, renderAuditEvent } from "../../blueprint/gateway/audit.js";
import {
  connectTunnel, CURL, NODE, policy, proxyRequest, refusalBody, requestOn, startGateway, startHttpUpstream, tlsOverTunnel,
  type GatewayHarness, type Upstream,
} from "../helpers/gateway-harness.js";

let gw: GatewayHarness;
let upstream: Upstream;
const internal: string[] = [];

const yaml = (mode: string) => `
version: 1
egress_mode: ${mode}
network_policies:
  api:
    name: api
    endpoints:
      - host: api.example.test
        ports: [80, 443, PORT]
        allowed_ips: [127.0.0.1/32]
    binaries: [{ path: /usr/bin/curl }]
  model:
    name: model
    endpoints:
      - host: inference.local
        port: 80
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: POST, path: /v1/chat/completions }
    binaries: [{ path: /usr/local/bin/node }]
`;

beforeAll(async () => {
  upstream = await startHttpUpstream();
  gw = await startGateway(policy(yaml("observe").replace("PORT", String(upstream.port))), {
    hostMap: { "api.example.test": "127.0.0.1" },
    approvalTimeoutMs: 60_000,
    internalHandlers: {
      "inference.local": (_sandbox, req, res) => {
        internal.push(`${req.method} ${req.url}`);
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

async function events() {
  await gw.gateway.auditLog(gw.sandbox).flush();
  return readAuditEvents(gw.gateway.auditLog(gw.sandbox).file);
}

describe("egress_mode: observe", () => {
  it("plain HTTP the policy allows: refused at once (as a host that does not resolve), the upstream sees nothing, recorded as policy-allows", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, `http://api.example.test:${upstream.port}/v1/items?q=1`, { method: "POST", body: "x" });
    expect(r.status).toBe(502);
    expect(r.json()).toMatchObject({ error: "cannot resolve", host: "api.example.test", rule: { policy: "api", endpoint: 0 }, reason: "api.example.test did not resolve on the host (ENOTFOUND)" });
    expect(r.body).not.toMatch(/observ/i);
    expect(upstream.seen).toHaveLength(0);
    const e = (await events()).find((x) => x.http_request?.url.path === "/v1/items");
    expect(e).toMatchObject({ unmapped: { decision: "deny", observed: "allowed" }, http_request: { http_method: "POST" }, actor: { process: { file: { path: "/usr/bin/curl" } } } });
    expect(renderAuditEvent(e!)).toContain("OBSERVED(policy-allows) /usr/bin/curl(64) -> api.example.test:");
  });

  it("an unknown host is not held for approval: refused at once, recorded as policy-denies", async () => {
    const started = Date.now();
    const r = await proxyRequest(gw.socketPath, NODE, "http://unknown.example.test/collect");
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ error: "not in policy", reason: "no network policy allows unknown.example.test:80" });
    expect((await events()).find((x) => x.dst_endpoint.hostname === "unknown.example.test")?.message).toContain("the policy would refuse it (no network policy allows unknown.example.test:80)");
    expect(Date.now() - started).toBeLessThan(30_000); // the approval timeout is 60 s
    expect(gw.gateway.approvals.list(gw.sandbox)).toHaveLength(0);
    expect((await events()).find((x) => x.dst_endpoint.hostname === "unknown.example.test")?.unmapped.observed).toBe("denied");
  });

  it("HTTPS: the CONNECT is answered, TLS terminated with the sandbox CA, and the request inside recorded (method, path), then refused", async () => {
    const tunnel = await connectTunnel(gw.socketPath, NODE, "secret-drop.example.test:443");
    expect(tunnel.status).toBe(200);
    const secure = await tlsOverTunnel(tunnel.socket, "secret-drop.example.test", gw.caCertPem);
    const r = await requestOn(secure, "secret-drop.example.test", { method: "PUT", path: "/upload/keys?id=7", body: "k" });
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ error: "not in policy", host: "secret-drop.example.test", port: 443 });
    secure.destroy();
    const seen = (await events()).filter((x) => x.dst_endpoint.hostname === "secret-drop.example.test");
    expect(seen.map((x) => [x.class_uid, x.http_request?.http_method ?? null, x.http_request?.url.path ?? null, x.unmapped.observed])).toEqual([
      [4001, null, null, "denied"],
      [4002, "PUT", "/upload/keys", "denied"],
    ]);
  });

  it("a raw IP over CONNECT is terminated too (a leaf for the address)", async () => {
    const tunnel = await connectTunnel(gw.socketPath, NODE, "198.51.100.7:443");
    expect(tunnel.status).toBe(200);
    // No SNI for an address; the leaf is checked against the address itself.
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: tunnel.socket, host: "198.51.100.7", ca: gw.caCertPem, ALPNProtocols: ["http/1.1"] });
      s.once("secureConnect", () => resolve(s));
      s.once("error", reject);
    });
    const r = await requestOn(secure, "198.51.100.7", { path: "/x" });
    expect(r.status).toBe(403);
    secure.destroy();
    expect((await events()).some((x) => x.dst_endpoint.hostname === "198.51.100.7" && x.http_request?.url.path === "/x")).toBe(true);
  });

  it("an in-process name the policy allows is still served; the wrong binary for it is observed, not served", async () => {
    const ok = await proxyRequest(gw.socketPath, NODE, "http://inference.local/v1/chat/completions", { method: "POST", body: "{}" });
    expect(ok.status).toBe(200);
    expect(internal).toEqual(["POST /v1/chat/completions"]);
    const refused = await proxyRequest(gw.socketPath, CURL, "http://inference.local/v1/chat/completions", { method: "POST", body: "{}" });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ error: "denied by policy", reason: expect.stringContaining("is not in the binaries of network policy model") });
    expect(internal).toHaveLength(1);
  });

  it("an unknown host: the sandbox gets the same status and body as from an enforce sandbox that refuses unknown hosts", async () => {
    const enforce = await startGateway(policy(yaml("enforce").replace("PORT", String(upstream.port))), { hostMap: {} }, { unknown: "deny" });
    try {
      for (const url of ["http://collect.example.test/ingest", "http://10.1.2.3:8080/x"]) {
        const [seen, normal] = [await proxyRequest(gw.socketPath, NODE, url, { method: "POST", body: "x" }), await proxyRequest(enforce.socketPath, NODE, url, { method: "POST", body: "x" })];
        expect(seen.status).toBe(normal.status);
        expect(seen.headers["content-type"]).toBe(normal.headers["content-type"]);
        expect(seen.json()).toEqual(normal.json());
        expect(seen.body).not.toMatch(/observ|test mode|skill/i);
      }
      const tunnel = await connectTunnel(gw.socketPath, NODE, "drop.example.test:443");
      const secure = await tlsOverTunnel(tunnel.socket, "drop.example.test", gw.caCertPem);
      const inside = await requestOn(secure, "drop.example.test", { path: "/" });
      secure.destroy();
      const normal = await connectTunnel(enforce.socketPath, NODE, "drop.example.test:443");
      expect(inside.status).toBe(normal.status);
      expect(inside.json()).toEqual(refusalBody(normal.text));
    } finally {
      await enforce.close();
    }
  });

  it("back to enforce: the same allowed request reaches the upstream (observe mode adds nothing to normal mode)", async () => {
    gw.gateway.setPolicy(gw.sandbox, policy(yaml("enforce").replace("PORT", String(upstream.port))));
    const r = await proxyRequest(gw.socketPath, CURL, `http://api.example.test:${upstream.port}/v1/items`);
    expect(r.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    const denied = await connectTunnel(gw.socketPath, NODE, "api.example.test:443");
    expect(denied.status).toBe(403);
    expect(refusalBody(denied.text)).toMatchObject({ error: "denied by policy" });
  });
});
