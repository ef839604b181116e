// Attempts to get past the egress gateway from inside a sandbox: every test drives the real
// gateway over its Unix socket with real upstreams on 127.0.0.1, and checks both the refusal
// and that the upstream never saw the request.

import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTunnel, createTestCa, CURL, dialProxy, NODE, policy, proxyRequest, rawExchange, refusalBody, requestOn, startGateway,
  startHttpsUpstream, startHttpUpstream, tempDir, TEST_CALLER_SECRET, tlsOverTunnel,
} from "../helpers/gateway-harness.js";
import { formatPreamble } from "../../blueprint/supervisor/caller-preamble.js";
import type { GatewayHarness, TestCa, Upstream } from "../helpers/gateway-harness.js";

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
  api:
    endpoints:
      - { host: api.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
      - { host: api.example.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]
  ro:
    endpoints:
      - { host: ro.example.test, port: ${secure.port}, protocol: rest, enforcement: enforce, access: read-only, allowed_ips: [127.0.0.1/32] }
      - host: rules.example.test
        port: ${secure.port}
        protocol: rest
        enforcement: enforce
        rules: [{ allow: { method: GET, path: "/public/**" } }]
        allowed_ips: [127.0.0.1/32]
    binaries: [{ path: /usr/bin/curl }]
  rebind:
    endpoints:
      - { host: rebind.example.test, port: ${plain.port} }
      - { host: mapped.example.test, port: ${plain.port} }
      - { host: meta.example.test, port: 80 }
      - { host: 127.0.0.1, port: ${plain.port} }
      - { host: private.example.test, port: ${plain.port}, allowed_ips: [10.0.0.0/8] }
    binaries: [{ path: /usr/bin/curl }]
`),
    {
      hostMap: {
        "api.example.test": "127.0.0.1",
        "ro.example.test": "127.0.0.1",
        "rules.example.test": "127.0.0.1",
        "rebind.example.test": "127.0.0.1",
        "mapped.example.test": "::ffff:127.0.0.1",
        "meta.example.test": "169.254.169.254",
        "private.example.test": "127.0.0.1",
        "evil.example.test": "127.0.0.1",
      },
      upstreamCa: ca.certPem,
      approvalTimeoutMs: 50,
      maxHeaderSize: 8 * 1024,
    },
  );
});

afterAll(async () => {
  await gw.close();
  await plain.close();
  await secure.close();
});

function seenPaths(u: Upstream): string[] {
  return u.seen.map((s) => s.url);
}

/** Raw bytes over an established (TLS) stream; resolves with what came back before close or `ms`. */
function rawOn(stream: net.Socket, bytes: string, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const done = (): void => {
      clearTimeout(timer);
      resolve(out);
    };
    const timer = setTimeout(done, ms);
    stream.on("data", (c: Buffer) => {
      out += c.toString("latin1");
      if (/\r\n\r\n/.test(out) && /content-length: (\d+)/i.test(out)) {
        const len = Number(/content-length: (\d+)/i.exec(out)?.[1]);
        if (out.length - out.indexOf("\r\n\r\n") - 4 >= len) done();
      }
    });
    stream.once("close", done);
    stream.write(bytes);
  });
}

describe("identity", () => {
  it("a binary not in `binaries` cannot use an allowed host (absolute-form or CONNECT)", async () => {
    const r = await proxyRequest(gw.socketPath, NODE, `http://api.example.test:${plain.port}/node-tries`);
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ rule: { policy: "api", endpoint: 0 }, reason: expect.stringMatching(/\/usr\/local\/bin\/node is not in the binaries of network policy api/) });
    const t = await connectTunnel(gw.socketPath, NODE, `api.example.test:${secure.port}`);
    expect(t.status).toBe(403);
    expect(seenPaths(plain)).not.toContain("/node-tries");
  });

  it("an unidentified caller matches no policy", async () => {
    const r = await proxyRequest(gw.socketPath, { pid: null, exe: null, sha256: null, ancestors: [], unidentified: "test" }, `http://api.example.test:${plain.port}/anon`);
    expect(r.status).toBe(403);
    expect(seenPaths(plain)).not.toContain("/anon");
  });

  it("a connection without a preamble gets nothing", async () => {
    const out = await rawExchange(gw.socketPath, null, `GET http://api.example.test:${plain.port}/nopre HTTP/1.1\r\nHost: api.example.test:${plain.port}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 400/);
    expect(seenPaths(plain)).not.toContain("/nopre");
  });
});

describe("destination confusion", () => {
  it("a Host header naming another host than the absolute URL is refused", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, `http://api.example.test:${plain.port}/spoof1`, { headers: { host: "evil.example.test" } });
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ error: "host mismatch" });
    const r2 = await proxyRequest(gw.socketPath, CURL, `http://evil.example.test:${plain.port}/spoof2`, { headers: { host: `api.example.test:${plain.port}` } });
    expect(r2.status).toBe(403);
    expect(seenPaths(plain)).not.toContain("/spoof1");
    expect(seenPaths(plain)).not.toContain("/spoof2");
  });

  it("a CONNECT whose Host header names another host is refused", async () => {
    const socket = dialProxy(gw.socketPath, CURL);
    const out = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (c: Buffer) => (text += c.toString()));
      socket.once("close", () => resolve(text));
      socket.write(`CONNECT api.example.test:${secure.port} HTTP/1.1\r\nHost: evil.example.test:443\r\n\r\n`);
    });
    expect(out).toMatch(/^HTTP\/1\.1 403/);
    expect(refusalBody(out)).toMatchObject({ error: "host mismatch" });
  });

  it("TLS SNI that differs from the CONNECT target is refused before any request", async () => {
    const before = secure.seen.length;
    const t = await connectTunnel(gw.socketPath, CURL, `ro.example.test:${secure.port}`);
    expect(t.status).toBe(200);
    await expect(tlsOverTunnel(t.socket, "evil.example.test", gw.caCertPem)).rejects.toThrow();
    expect(secure.seen.length).toBe(before);
  });

  it("inside a terminated tunnel, a Host header or absolute-form URL for another host is refused", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `ro.example.test:${secure.port}`);
    const s = await tlsOverTunnel(t.socket, "ro.example.test", gw.caCertPem);
    const byHost = await requestOn(s, "evil.example.test", { path: "/inner-host" });
    expect(byHost.status).toBe(403);
    expect(byHost.json()).toMatchObject({ error: "host mismatch" });
    const byUrl = await requestOn(s, `ro.example.test:${secure.port}`, { path: `https://evil.example.test:${secure.port}/inner-url` });
    expect(byUrl.status).toBe(403);
    expect(byUrl.json().reason).toMatch(/names another destination/);
    expect(seenPaths(secure)).not.toContain("/inner-host");
    expect(seenPaths(secure)).not.toContain("/inner-url");
    s.destroy();
  });

  it("https:// in absolute-form is refused (it would bypass TLS termination)", async () => {
    const out = await rawExchange(gw.socketPath, CURL, `GET https://ro.example.test:${secure.port}/x HTTP/1.1\r\nHost: ro.example.test:${secure.port}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 400/);
  });

  it("plain HTTP inside a CONNECT to an inspected endpoint gets no request through", async () => {
    const before = secure.seen.length;
    const t = await connectTunnel(gw.socketPath, CURL, `ro.example.test:${secure.port}`);
    const out = await rawOn(t.socket, `POST /plain HTTP/1.1\r\nHost: ro.example.test\r\nContent-Length: 0\r\n\r\n`, 500);
    expect(out).not.toMatch(/^HTTP\/1\.1 200/);
    expect(secure.seen.length).toBe(before);
  });
});

describe("L7 over HTTPS", () => {
  it("a read-only endpoint refuses POST, PUT and DELETE over terminated TLS", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `ro.example.test:${secure.port}`);
    const s = await tlsOverTunnel(t.socket, "ro.example.test", gw.caCertPem);
    const host = `ro.example.test:${secure.port}`;
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const r = await requestOn(s, host, { method, path: `/write-${method}`, body: "data" });
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({ rule: { policy: "ro", endpoint: 0 }, reason: `access read-only does not allow ${method}` });
    }
    expect((await requestOn(s, host, { path: "/read" })).status).toBe(200);
    expect(secure.seen.filter((x) => x.url.startsWith("/write-"))).toEqual([]);
    s.destroy();
  });

  it.each([
    "/public/../private/x",
    "/public/%2e%2e/private/x",
    "/public/%2E%2e/private/x",
    "/public/..%2fprivate/x",
    "/public/%252e%252e/private/x",
    "/public/..;/private/x",
    "/public//../private",
    "/public\\..\\private",
    "/PUBLIC/x",
  ])("path trick %s does not escape /public/**", async (path) => {
    const t = await connectTunnel(gw.socketPath, CURL, `rules.example.test:${secure.port}`);
    const s = await tlsOverTunnel(t.socket, "rules.example.test", gw.caCertPem);
    const out = await rawOn(s, `GET ${path} HTTP/1.1\r\nHost: rules.example.test:${secure.port}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 (400|403)/);
    expect(secure.seen.some((x) => x.url === path)).toBe(false);
    s.destroy();
  });

  it("a lower-case method is not a way around method rules", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `rules.example.test:${secure.port}`);
    const s = await tlsOverTunnel(t.socket, "rules.example.test", gw.caCertPem);
    const out = await rawOn(s, `get /public/x HTTP/1.1\r\nHost: rules.example.test:${secure.port}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 (400|403)/);
    s.destroy();
  });
});

describe("addresses", () => {
  it("an allowed name that resolves to loopback without allowed_ips is refused (rebinding)", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, `http://rebind.example.test:${plain.port}/rebind`);
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ error: "blocked address", rule: { policy: "rebind", endpoint: 0 }, reason: expect.stringMatching(/127\.0\.0\.1 is loopback/) });
    const mapped = await proxyRequest(gw.socketPath, CURL, `http://mapped.example.test:${plain.port}/mapped`);
    expect(mapped.status).toBe(403);
    expect(seenPaths(plain)).not.toContain("/rebind");
    expect(seenPaths(plain)).not.toContain("/mapped");
  });

  it("the cloud metadata address is refused for an allowed name", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, "http://meta.example.test/latest/meta-data/");
    expect(r.status).toBe(403);
    expect(r.json().reason).toMatch(/169\.254\.169\.254 is the cloud metadata address/);
  });

  it("a literal loopback address named in the policy is still hard-blocked without allowed_ips", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, `http://127.0.0.1:${plain.port}/literal`);
    expect(r.status).toBe(403);
    const v6 = await connectTunnel(gw.socketPath, CURL, `[::ffff:127.0.0.1]:${plain.port}`);
    expect(v6.status).toBe(403);
    expect(seenPaths(plain)).not.toContain("/literal");
  });

  it("allowed_ips pins the name: an address outside them is refused even when it is loopback", async () => {
    const r = await proxyRequest(gw.socketPath, CURL, `http://private.example.test:${plain.port}/pinned`);
    expect(r.status).toBe(403);
    expect(r.json().reason).toMatch(/not in the endpoint's allowed_ips/);
  });

  it("a direct IP with no policy is held and refused, never connected", async () => {
    const t = await connectTunnel(gw.socketPath, CURL, `127.0.0.1:${secure.port}`);
    expect(t.status).toBe(403);
    expect(refusalBody(t.text)).toMatchObject({ error: "approval timed out" });
  });
});

describe("framing", () => {
  const head = (extra: string, body = ""): string =>
    `POST http://api.example.test:${plain.port}/front HTTP/1.1\r\nHost: api.example.test:${plain.port}\r\n${extra}\r\n${body}`;
  const SMUGGLED = "<smuggled>";
  const smuggled = (): string => `GET http://api.example.test:${plain.port}/smuggled HTTP/1.1\r\nHost: api.example.test:${plain.port}\r\n\r\n`;

  it.each([
    ["Content-Length and Transfer-Encoding", `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n`, `0\r\n\r\n${SMUGGLED}`],
    ["two different Content-Lengths", `Content-Length: 4\r\nContent-Length: 40\r\n`, `abcd${SMUGGLED}`],
    ["an obfuscated Transfer-Encoding", `Transfer-Encoding: xchunked\r\n`, `0\r\n\r\n${SMUGGLED}`],
    ["chunked not last", `Transfer-Encoding: chunked, identity\r\n`, `0\r\n\r\n${SMUGGLED}`],
    ["a space before the colon", `Transfer-Encoding : chunked\r\nContent-Length: 4\r\n`, `0\r\n\r\n${SMUGGLED}`],
    ["a bare LF in a header", `X-A: 1\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n`, `0\r\n\r\n${SMUGGLED}`],
  ])("refuses %s and smuggles nothing", async (_name, extra, body) => {
    const out = await rawExchange(gw.socketPath, CURL, head(extra, body.replace(SMUGGLED, smuggled())), 1000);
    expect(out).toMatch(/^HTTP\/1\.1 400/);
    expect(out.match(/HTTP\/1\.1 \d{3}/g)?.length).toBe(1);
    expect(seenPaths(plain)).not.toContain("/smuggled");
  });

  it("refuses oversized headers with 431 and keeps serving", async () => {
    const out = await rawExchange(gw.socketPath, CURL, `GET http://api.example.test:${plain.port}/big HTTP/1.1\r\nHost: api.example.test:${plain.port}\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431/);
    expect(seenPaths(plain)).not.toContain("/big");
    expect((await proxyRequest(gw.socketPath, CURL, `http://api.example.test:${plain.port}/after-big`)).status).toBe(200);
  });

  it("survives 10,000 garbage connections and still serves a valid request", async () => {
    const kinds = [
      (i: number) => Buffer.from(Array.from({ length: 1 + (i % 300) }, () => Math.floor(Math.random() * 256))),
      (i: number) => Buffer.concat([Buffer.from(formatPreamble(TEST_CALLER_SECRET, CURL)), Buffer.from(Array.from({ length: 1 + (i % 200) }, () => Math.floor(Math.random() * 256)))]),
      () => Buffer.from(`NEMOCLAW-CALLER ${TEST_CALLER_SECRET} {"pid":`),
      () => Buffer.from(`${formatPreamble(TEST_CALLER_SECRET, CURL)}CONNECT ${"a".repeat(300)}:99999 HTTP/1.1\r\n\r\n`),
      () => Buffer.from(`${formatPreamble(TEST_CALLER_SECRET, CURL)}GET http://api.example.test:${plain.port}/x HTTP/1.1\r\nHost: api.example.test:${plain.port}\r\nContent-Length: 10\r\n\r\nab`),
    ];
    let done = 0;
    const one = (i: number): Promise<void> =>
      new Promise((resolve) => {
        const socket = net.connect(gw.socketPath);
        socket.on("error", () => {});
        socket.once("close", () => {
          done++;
          resolve();
        });
        socket.write(kinds[i % kinds.length]!(i), () => setTimeout(() => socket.destroy(), i % 7 === 0 ? 5 : 0));
      });
    for (let batch = 0; batch < 10_000; batch += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, j) => one(batch + j)));
    }
    expect(done).toBe(10_000);
    const r = await proxyRequest(gw.socketPath, CURL, `http://api.example.test:${plain.port}/after-garbage`);
    expect(r.status).toBe(200);
    await new Promise((r2) => setTimeout(r2, 50));
    expect(gw.gateway.stats(gw.sandbox).connections).toBeLessThan(5);
  }, 120_000);
});

describe("resource limits", () => {
  it("closes a connection that never sends a request (slowloris)", async () => {
    const local = await startGateway(policy("version: 1\n"), { headersTimeoutMs: 100 });
    try {
      const socket = dialProxy(local.socketPath, CURL);
      socket.write("GET http://a.example.test/ HTTP/1.1\r\nHost: a.exa");
      const started = Date.now();
      await new Promise((resolve) => socket.once("close", resolve));
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await local.close();
    }
  });

  it("refuses connections beyond the per-sandbox limit", async () => {
    const local = await startGateway(policy("version: 1\n"), { maxConnectionsPerSandbox: 3, headersTimeoutMs: 5_000 });
    try {
      const held = Array.from({ length: 3 }, () => dialProxy(local.socketPath, CURL));
      await new Promise((r) => setTimeout(r, 50));
      const out = await rawExchange(local.socketPath, CURL, "");
      expect(out).toMatch(/^HTTP\/1\.1 503/);
      for (const s of held) s.destroy();
    } finally {
      await local.close();
    }
  });
});

describe("a client that ignores the proxy", () => {
  it("gets no other way out of the gateway: the socket only speaks proxy", async () => {
    // TLS straight at the proxy socket (as a client with no proxy configured would try) is not a request.
    const socket = dialProxy(gw.socketPath, CURL);
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = tls.connect({ socket, servername: "api.example.test", rejectUnauthorized: false });
      s.once("secureConnect", () => resolve(undefined));
      s.once("error", (e) => resolve(e));
    });
    expect(err).toBeDefined();
  });
});
