import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTunnel, createTestCa, CURL, NODE, policy, proxyAgent, proxyRequest, refusalBody, requestOn, startGateway,
  startHttpsUpstream, startHttpUpstream, tempDir, tlsOverTunnel,
} from "../helpers/gateway-harness.js";
import type { GatewayHarness, TestCa, Upstream } from "../helpers/gateway-harness.js";
import { readAuditEvents, renderAuditEvent } from "../../blueprint/gateway/audit.js";
import { loadPolicyFile } from "../../blueprint/policy/load.js";
import { basePolicyPath } from "../../blueprint/policy/presets.js";

let plain: Upstream;
let secure: Upstream;
let ca: TestCa;
let gw: GatewayHarness;

beforeAll(async () => {
  ca = await createTestCa(await tempDir());
  plain = await startHttpUpstream();
  secure = await startHttpsUpstream(ca);
  gw = await startGateway(
    policy(`
version: 1
network_policies:
  plain:
    endpoints:
      - { host: api.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
      - { host: tunnel.example.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]
  rest_api:
    endpoints:
      - host: rest.example.test
        port: ${secure.port}
        protocol: rest
        enforcement: enforce
        access: read-only
        allowed_ips: [127.0.0.1/32]
      - host: rest.example.test
        port: ${plain.port}
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/v1/**" }
        deny_rules:
          - { method: "*", path: "/v1/admin/**" }
        allowed_ips: [127.0.0.1/32]
    binaries: [{ path: /usr/local/bin/node }, { path: /usr/bin/curl }]
`),
    {
      hostMap: { "api.example.test": "127.0.0.1", "tunnel.example.test": "127.0.0.1", "rest.example.test": "127.0.0.1" },
      upstreamCa: ca.certPem,
      approvalTimeoutMs: 300,
    },
  );
});

afterAll(async () => {
  await gw.close();
  await plain.close();
  await secure.close();
});

describe("absolute-form HTTP", () => {
  it("forwards an allowed request and strips proxy and hop-by-hop headers", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, `http://api.example.test:${plain.port}/hello?x=1`, {
      headers: { "proxy-authorization": "Basic eDp5", connection: "keep-alive, x-secret", "x-secret": "s", "x-kept": "k" },
    });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ method: "GET", url: "/hello?x=1", host: `api.example.test:${plain.port}` });
    const seen = plain.seen.at(-1);
    expect(seen?.headers["proxy-authorization"]).toBeUndefined();
    expect(seen?.headers["x-secret"]).toBeUndefined();
    expect(seen?.headers["x-kept"]).toBe("k");
  });

  it("refuses an unknown host with a 403 JSON body once the approval times out", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, `http://unknown.example.test:${plain.port}/`);
    expect(r.status).toBe(403);
    const body = r.json();
    expect(body).toMatchObject({ error: "approval timed out", host: "unknown.example.test", port: plain.port, rule: null });
    expect(String(body.reason)).toMatch(/timed out/);
    expect(String(body.next)).toMatch(/openclaw nemoclaw approvals/);
  });

  it("applies L7 rules on plain HTTP: rules allow, deny_rules win, other methods refused", async () => {
    const base = `http://rest.example.test:${plain.port}`;
    expect((await proxyRequest(gw.socketPath, NODE, `${base}/v1/models`)).status).toBe(200);
    const admin = await proxyRequest(gw.socketPath, NODE, `${base}/v1/admin/users`);
    expect(admin.status).toBe(403);
    expect(admin.json()).toMatchObject({ rule: { policy: "rest_api", endpoint: 1 } });
    expect(String(admin.json().reason)).toMatch(/deny_rules\[0\]/);
    expect((await proxyRequest(gw.socketPath, NODE, `${base}/v1/models`, { method: "POST", body: "x" })).status).toBe(403);
    expect((await proxyRequest(gw.socketPath, NODE, `${base}/v2/models`)).status).toBe(403);
  });

  it("keeps connections alive across requests", async () => {
    const agent = proxyAgent(gw.socketPath, CURL);
    const url = `http://api.example.test:${plain.port}/ka`;
    for (let i = 0; i < 5; i++) expect((await proxyRequest(gw.socketPath, CURL, url, { agent })).status).toBe(200);
    expect(gw.gateway.stats(gw.sandbox).connections).toBeGreaterThanOrEqual(1);
    agent.destroy();
  });
});

describe("CONNECT", () => {
  it("opens a pure tunnel to an endpoint without a protocol; TLS is end to end", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `tunnel.example.test:${secure.port}`);
    expect(t.status).toBe(200);
    const s = await tlsOverTunnel(t.socket, "tunnel.example.test", ca.certPem);
    const r = await requestOn(s, `tunnel.example.test:${secure.port}`, { path: "/through" });
    expect(r.json()).toMatchObject({ url: "/through" });
    s.destroy();
  });

  it("terminates TLS for protocol rest and checks each request", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `rest.example.test:${secure.port}`);
    expect(t.status).toBe(200);
    const s = await tlsOverTunnel(t.socket, "rest.example.test", gw.caCertPem);
    const host = `rest.example.test:${secure.port}`;
    const get = await requestOn(s, host, { path: "/repos" });
    expect(get.status).toBe(200);
    expect(get.json()).toMatchObject({ url: "/repos", method: "GET" });
    const post = await requestOn(s, host, { method: "POST", path: "/repos", body: "{}" });
    expect(post.status).toBe(403);
    expect(post.json()).toMatchObject({ error: "denied by policy", rule: { policy: "rest_api", endpoint: 0 } });
    s.destroy();
  });

  it("refuses a CONNECT to a host no policy names, with a JSON body", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `nowhere.example.test:443`);
    expect(t.status).toBe(403);
    expect(refusalBody(t.text)).toMatchObject({ error: "approval timed out", host: "nowhere.example.test", port: 443 });
  });
});

describe("upstream TLS", () => {
  it("verifies the upstream certificate against the name the sandbox asked for", async () => {
    const impostor = await startHttpsUpstream(ca, "someone-else.example.test");
    const local = await startGateway(
      policy(`
version: 1
network_policies:
  r:
    endpoints: [{ host: rest.example.test, port: ${impostor.port}, protocol: rest, enforcement: enforce, access: full, allowed_ips: [127.0.0.1/32] }]
    binaries: [{ path: /usr/bin/curl }]
`),
      { hostMap: { "rest.example.test": "127.0.0.1" }, upstreamCa: ca.certPem },
    );
    try {
      const t = await connectTunnel(local.socketPath, CURL, `rest.example.test:${impostor.port}`);
      const s = await tlsOverTunnel(t.socket, "rest.example.test", local.caCertPem);
      const r = await requestOn(s, `rest.example.test:${impostor.port}`, { path: "/x" });
      expect(r.status).toBe(502);
      expect(r.json().reason).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(impostor.seen).toEqual([]);
      s.destroy();
    } finally {
      await local.close();
      await impostor.close();
    }
  });
});

describe("protocol tcp", () => {
  it("tunnels raw TCP through CONNECT to any port the endpoint lists", async () => {
    const echo = net.createServer((c) => c.pipe(c));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const port = (echo.address() as net.AddressInfo).port;
    const local = await startGateway(
      policy(`version: 1\nnetwork_policies:\n  db:\n    endpoints: [{ host: db.example.test, ports: [${port}, 5433], protocol: tcp, allowed_ips: [127.0.0.1/32] }]\n    binaries: [{ path: /usr/bin/curl }]\n`),
      { hostMap: { "db.example.test": "127.0.0.1" }, approvalTimeoutMs: 50 },
    );
    try {
      const t = await connectTunnel(local.socketPath, CURL, `db.example.test:${port}`);
      expect(t.status).toBe(200);
      const echoed = new Promise<string>((resolve) => t.socket.once("data", (d: Buffer) => resolve(d.toString())));
      t.socket.write("\x00\x01not http");
      expect(await echoed).toBe("\x00\x01not http");
      t.socket.destroy();
      expect((await connectTunnel(local.socketPath, CURL, `db.example.test:5434`)).status).toBe(403);
    } finally {
      await local.close();
      echo.close();
    }
  });
});

describe("timeouts", () => {
  it("a slow response outlives the connect timeout (long polls, streamed completions)", async () => {
    const local = await startGateway(
      policy(`version: 1\nnetwork_policies:\n  p:\n    endpoints: [{ host: api.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }]\n    binaries: [{ path: /usr/bin/curl }]\n`),
      { hostMap: { "api.example.test": "127.0.0.1" }, connectTimeoutMs: 100 },
    );
    try {
      const r = await proxyRequest(local.socketPath, CURL, `http://api.example.test:${plain.port}/slow/400`);
      expect(r.status).toBe(200);
      expect(r.body).toBe("waiting\ndone\n");
    } finally {
      await local.close();
    }
  });
});

describe("internal hosts", () => {
  it("routes inference.local from the shipped base policy to the runtime's listener, L7 rules applied", async () => {
    const router = await startHttpUpstream();
    const local = await startGateway((await loadPolicyFile(basePolicyPath())).policy, {
      internalHosts: { "inference.local": { address: "127.0.0.1", port: router.port } },
    });
    try {
      const ok = await proxyRequest(local.socketPath, NODE, "http://inference.local/v1/chat/completions", { method: "POST", body: "{}" });
      expect(ok.status).toBe(200);
      expect(ok.json()).toMatchObject({ method: "POST", url: "/v1/chat/completions", host: "inference.local" });
      expect((await proxyRequest(local.socketPath, NODE, "http://inference.local/admin", { method: "POST", body: "{}" })).status).toBe(403);
      expect((await proxyRequest(local.socketPath, CURL, "http://inference.local/v1/models")).status).toBe(403);
      // https://inference.local: TLS terminated with the sandbox CA, forwarded as plain HTTP.
      const t = await connectTunnel(local.socketPath, NODE, "inference.local:443");
      const s = await tlsOverTunnel(t.socket, "inference.local", local.caCertPem);
      const models = await requestOn(s, "inference.local", { path: "/v1/models" });
      expect(models.json()).toMatchObject({ url: "/v1/models" });
      s.destroy();
    } finally {
      await local.close();
      await router.close();
    }
  });
});

describe("audit", () => {
  it("writes well-formed OCSF lines for allows and denies, and renders them", async () => {
    await gw.gateway.auditLog(gw.sandbox).flush();
    const events = await readAuditEvents(gw.gateway.auditLog(gw.sandbox).file);
    expect(events.length).toBeGreaterThan(5);
    const denied = events.find((e) => e.unmapped.decision === "deny" && e.class_uid === 4002);
    expect(denied).toMatchObject({ class_name: "HTTP Activity", action: "Denied", disposition: "Blocked", status: "Failure" });
    const held = events.find((e) => e.unmapped.decision === "held");
    expect(held?.unmapped.approval_id).toMatch(/^[0-9a-f]{8}$/);
    expect(events.some((e) => e.unmapped.decision === "timeout")).toBe(true);
    const tunnelClose = events.find((e) => e.unmapped.decision === "close");
    expect(tunnelClose?.traffic?.bytes_in).toBeGreaterThan(0);
    const line = renderAuditEvent(denied ?? events[0]!);
    expect(line).toMatch(/DENIED \/usr\/local\/bin\/node\(100\) -> rest\.example\.test:\d+ \w+ \/\S+ \[policy:rest_api rule:rest_api#1\] \[reason:/);
  });
});
