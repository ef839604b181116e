// L7 and HTTP-level bypasses of the egress gateway, driven over its Unix socket with real
// upstreams on 127.0.0.1: `;` path parameters past deny rules, method-override headers past
// method rules, a TLS ClientHello naming another server through a pure tunnel, a slow second
// request head on a keep-alive connection, and upstream connections shared between callers.
// Each checks the specific refusal and that the upstream never saw what was refused.

import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OcsfEvent } from "../../blueprint/gateway/audit.js";
import { readAuditEvents } from "../../blueprint/gateway/audit.js";
import {
  connectTunnel, createTestCa, CURL, dialProxy, NODE, policy, proxyAgent, proxyRequest, requestOn, startGateway, startHttpsUpstream,
  startHttpUpstream, tempDir, tlsOverTunnel,
} from "../helpers/gateway-harness.js";
import type { GatewayHarness, TestCa, Upstream } from "../helpers/gateway-harness.js";

let plain: Upstream;
let secure: Upstream;
let ca: TestCa;
let gw: GatewayHarness;
/** A TCP upstream that records every byte it receives (nothing may reach it on a refused tunnel). */
let raw: { port: number; received: () => number; close: () => Promise<void> };
/** Plain HTTP upstream answering with the client port of its upstream connection. */
let ports: { port: number; close: () => Promise<void> };

async function startRawUpstream(): Promise<typeof raw> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("data", (c: Buffer) => (received += c.length));
    s.on("error", () => {});
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

async function startPortUpstream(): Promise<typeof ports> {
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    req.resume();
    res.end(JSON.stringify({ remotePort: req.socket.remotePort }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function auditEvents(): Promise<OcsfEvent[]> {
  const log = gw.gateway.auditLog(gw.sandbox);
  await log.flush();
  return readAuditEvents(log.file);
}

beforeAll(async () => {
  ca = await createTestCa(await tempDir());
  plain = await startHttpUpstream();
  secure = await startHttpsUpstream(ca);
  raw = await startRawUpstream();
  ports = await startPortUpstream();
  gw = await startGateway(
    policy(`
version: 1
network_policies:
  rest_tls:
    endpoints:
      - host: rules.example.test
        port: ${secure.port}
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/repos/**" }
          - allow: { method: POST, path: "/items/**" }
          - allow: { method: GET, path: "/items/**" }
        deny_rules:
          - { method: "*", path: "/repos/*/*/hooks" }
        allowed_ips: [127.0.0.1/32]
    binaries: [{ path: /usr/bin/curl }]
  rest_plain:
    endpoints:
      - host: plainrest.example.test
        port: ${plain.port}
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: POST, path: "/items/**" }
        allowed_ips: [127.0.0.1/32]
    binaries: [{ path: /usr/bin/curl }]
  tunnels:
    endpoints:
      - { host: tunnel.example.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }
      - { host: tunnel.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
      - { host: raw.example.test, port: ${raw.port}, allowed_ips: [127.0.0.1/32] }
      - { host: api.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
      - { host: ports.example.test, port: ${ports.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }, { path: /usr/local/bin/node }]
`),
    {
      hostMap: {
        "rules.example.test": "127.0.0.1",
        "plainrest.example.test": "127.0.0.1",
        "tunnel.example.test": "127.0.0.1",
        "raw.example.test": "127.0.0.1",
        "api.example.test": "127.0.0.1",
        "ports.example.test": "127.0.0.1",
      },
      upstreamCa: ca.certPem,
      approvalTimeoutMs: 50,
      headersTimeoutMs: 400,
      keepAliveTimeoutMs: 60_000,
    },
  );
});

afterAll(async () => {
  await gw.close();
  await plain.close();
  await secure.close();
  await raw.close();
  await ports.close();
});

async function inspected(): Promise<tls.TLSSocket> {
  const t = await connectTunnel(gw.socketPath, CURL, `rules.example.test:${secure.port}`);
  expect(t.status).toBe(200);
  return tlsOverTunnel(t.socket, "rules.example.test", gw.caCertPem);
}

describe("path parameters", () => {
  it.each(["/repos/a/b/hooks;x=1", "/repos/a/b/hooks;", "/repos/a/b/hooks%3bx", "/repos/a;v=1/b/hooks"])(
    "%s is refused, not matched past the deny rule on /repos/*/*/hooks",
    async (target) => {
      const s = await inspected();
      const r = await requestOn(s, `rules.example.test:${secure.port}`, { path: target });
      s.destroy();
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({ error: "denied by policy", rule: { policy: "rest_tls", endpoint: 0 }, reason: expect.stringMatching(/; parameter/) });
      expect(secure.seen.map((x) => x.url)).not.toContain(target);
    },
  );

  it("the same path without the parameter is still refused by the deny rule, and an allowed one passes", async () => {
    const s = await inspected();
    const denied = await requestOn(s, `rules.example.test:${secure.port}`, { path: "/repos/a/b/hooks" });
    expect(denied.status).toBe(403);
    expect(denied.json().reason).toMatch(/deny_rules\[0\]/);
    const ok = await requestOn(s, `rules.example.test:${secure.port}`, { path: "/repos/a/b/pulls" });
    expect(ok.status).toBe(200);
    s.destroy();
  });
});

describe("method-override headers", () => {
  it.each(["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])(
    "POST + %s: DELETE inside a terminated tunnel is refused as a DELETE",
    async (header) => {
      const s = await inspected();
      const path = `/items/override-${header.toLowerCase()}`;
      const r = await requestOn(s, `rules.example.test:${secure.port}`, { method: "POST", path, headers: { [header]: "DELETE" }, body: "{}" });
      s.destroy();
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({
        error: "denied by policy",
        reason: expect.stringMatching(new RegExp(`${header.toLowerCase()}: DELETE; no rule allows DELETE /items/`)),
      });
      expect(secure.seen.map((x) => x.url)).not.toContain(path);
    },
  );

  it("absolute-form: POST + X-HTTP-Method-Override: DELETE is refused; an override the rules allow is forwarded with its header", async () => {
    const url = `http://plainrest.example.test:${plain.port}/items/plain-override`;
    const refused = await proxyRequest(gw.socketPath, CURL, url, { method: "POST", headers: { "x-http-method-override": "delete" }, body: "x" });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ rule: { policy: "rest_plain", endpoint: 0 }, reason: expect.stringMatching(/x-http-method-override: DELETE/) });
    expect(plain.seen.map((x) => x.url)).not.toContain("/items/plain-override");
    const s = await inspected();
    const allowed = await requestOn(s, `rules.example.test:${secure.port}`, { method: "POST", path: "/items/as-get", headers: { "x-http-method-override": "GET" }, body: "{}" });
    s.destroy();
    expect(allowed.status).toBe(200);
    expect(secure.seen.find((x) => x.url === "/items/as-get")?.headers["x-http-method-override"]).toBe("GET");
  });
});

describe("SNI on pure tunnels", () => {
  function tlsError(socket: net.Socket, servername: string): Promise<NodeJS.ErrnoException | undefined> {
    return new Promise((resolve) => {
      const s = tls.connect({ socket, servername, ca: ca.certPem });
      s.once("secureConnect", () => {
        s.destroy();
        resolve(undefined);
      });
      s.once("error", (e: NodeJS.ErrnoException) => resolve(e));
      // An upstream that waits for a hello never answers: report that instead of hanging.
      setTimeout(() => resolve(Object.assign(new Error("no answer within 10 s"), { code: "NO_ANSWER" })), 10_000).unref();
    });
  }

  it("a ClientHello naming another server is refused with a TLS alert, and no byte reaches the upstream", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `raw.example.test:${raw.port}`);
    expect(t.status).toBe(200);
    const error = await tlsError(t.socket, "evil.example.test");
    expect(error?.code).toBe("ERR_SSL_TLSV1_UNRECOGNIZED_NAME");
    expect(raw.received()).toBe(0);
    const events = await auditEvents();
    expect(events.some((e) => e.unmapped.decision === "deny" && e.message === `TLS SNI "evil.example.test" does not match the CONNECT target raw.example.test`)).toBe(true);
  });

  it("a ClientHello without SNI to a named host is refused", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `raw.example.test:${raw.port}`);
    const error = await tlsError(t.socket, "");
    expect(error?.code).toBe("ERR_SSL_TLSV1_UNRECOGNIZED_NAME");
    expect(raw.received()).toBe(0);
    expect((await auditEvents()).some((e) => e.message === "TLS ClientHello names no server (SNI) for the CONNECT target raw.example.test")).toBe(true);
  });

  it("a ClientHello naming the CONNECT host goes through to the real upstream, verified end to end", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `tunnel.example.test:${secure.port}`);
    const s = await tlsOverTunnel(t.socket, "tunnel.example.test", ca.certPem);
    const r = await requestOn(s, `tunnel.example.test:${secure.port}`, { path: "/sni-ok" });
    s.destroy();
    expect(r.status).toBe(200);
    expect(secure.seen.map((x) => x.url)).toContain("/sni-ok");
  });

  it("a tunnel that does not start with TLS passes unread (plain HTTP through CONNECT)", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `tunnel.example.test:${plain.port}`);
    const r = await requestOn(t.socket, `tunnel.example.test:${plain.port}`, { path: "/not-tls" });
    t.socket.destroy();
    expect(r.status).toBe(200);
    expect(plain.seen.map((x) => x.url)).toContain("/not-tls");
  });
});

describe("keep-alive connections", () => {
  it("the head of the second request on a connection has the same deadline as the first (slowloris)", async () => {
    const socket = dialProxy(gw.socketPath, CURL);
    const first = await requestOn(socket, `api.example.test:${plain.port}`, { path: `http://api.example.test:${plain.port}/first-head` });
    expect(first.status).toBe(200);
    // Now trickle the next head, one byte at a time: every byte resets an idle timer, not the deadline.
    const head = `GET http://api.example.test:${plain.port}/second-head HTTP/1.1\r\nHost: api.example.test:${plain.port}\r\nX-Slow: ${"a".repeat(400)}`;
    let sent = 0;
    // The gateway closing the socket mid-trickle can surface as EPIPE on our next write.
    socket.on("error", () => {});
    const closed = new Promise<boolean>((resolve) => {
      socket.once("close", () => resolve(true));
      const tick = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        if (sent >= head.length) {
          clearInterval(tick);
          resolve(false);
          return;
        }
        socket.write(head[sent++] ?? "");
      }, 20);
      socket.once("close", () => clearInterval(tick));
    });
    expect(await closed).toBe(true);
    expect(sent).toBeLessThan(head.length);
    expect(plain.seen.map((x) => x.url)).not.toContain("/second-head");
  });

  it("a connection idle between requests is closed once the deadline for its next head passes", async () => {
    const socket = dialProxy(gw.socketPath, CURL);
    const first = await requestOn(socket, `api.example.test:${plain.port}`, { path: `http://api.example.test:${plain.port}/idle-first` });
    expect(first.status).toBe(200);
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    expect(socket.destroyed).toBe(true);
  });
});

describe("upstream connection pools", () => {
  async function remotePortVia(agent: http.Agent, caller: typeof CURL): Promise<number> {
    const r = await proxyRequest(gw.socketPath, caller, `http://ports.example.test:${ports.port}/`, { agent });
    expect(r.status).toBe(200);
    return r.json<{ remotePort: number }>().remotePort;
  }

  it("are kept per caller: another program never reuses an upstream connection, the same one does", async () => {
    const curlAgent = proxyAgent(gw.socketPath, CURL);
    const nodeAgent = proxyAgent(gw.socketPath, NODE);
    try {
      const curl1 = await remotePortVia(curlAgent, CURL);
      const curl2 = await remotePortVia(curlAgent, CURL);
      const node1 = await remotePortVia(nodeAgent, NODE);
      expect(curl2).toBe(curl1);
      expect(node1).not.toBe(curl1);
    } finally {
      curlAgent.destroy();
      nodeAgent.destroy();
    }
  });
});
