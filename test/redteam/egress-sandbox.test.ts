// The egress layer seen from inside a real sandbox: the real driver, the real supervisor's
// forwarder, the host daemon with the real gateway, upstreams on the host's 127.0.0.1.
// Every refusal is checked against an upstream that must not have seen the request.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { createTestCa, startHttpsUpstream, startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { repoRoot } from "../helpers/node24.js";

let h: SandboxHarness;
let plain: Upstream;
let secure: Upstream;
let name: string;

/** Runs a script with the sandbox's node as the workload; prints JSON {status, body} or {error}. */
function fetchInside(url: string, init: { method?: string; body?: string } = {}, env: string[] = []): Promise<{ status?: number; body?: string; error?: string }> {
  const script = `fetch(${JSON.stringify(url)}, ${JSON.stringify(init)}).then(async r => console.log(JSON.stringify({status: r.status, body: await r.text()})), e => console.log(JSON.stringify({error: String(e.cause?.code ?? e.cause?.message ?? e.message)})))`;
  return h.exec(name, [...(env.length ? ["env", ...env] : []), "node", "-e", script]).then((r) => {
    const line = r.stdout.trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(line) as { status?: number; body?: string; error?: string };
    } catch {
      throw new Error(`unexpected output: ${r.stdout}\n${r.stderr}`);
    }
  });
}

/** An absolute-form request straight to the forwarder (what curl and most HTTP clients send for http://). */
function absoluteFormInside(url: string): Promise<{ status?: number; body?: string; error?: string }> {
  const script = `require("http").get({ host: "127.0.0.1", port: 3128, path: ${JSON.stringify(url)}, headers: { host: new URL(${JSON.stringify(url)}).host } }, (r) => { let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => console.log(JSON.stringify({ status: r.statusCode, body: b }))); }).on("error", (e) => console.log(JSON.stringify({ error: e.code ?? e.message })))`;
  return h.exec(name, ["node", "-e", script]).then((r) => JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { status?: number; body?: string; error?: string });
}

/**
 * Raw bytes to the forwarder from inside, as a hand-rolled client would send them; what came back
 * before the gateway closed, a whole response arrived, or 10 s passed.
 */
async function rawInside(bytes: string): Promise<string> {
  const script = `const c = require("net").connect(3128, "127.0.0.1", () => c.write(Buffer.from(${JSON.stringify(Buffer.from(bytes).toString("base64"))}, "base64")));
    let got = Buffer.alloc(0);
    const done = () => { console.log(JSON.stringify(got.toString("latin1"))); process.exit(0); };
    c.on("data", (d) => {
      got = Buffer.concat([got, d]);
      const text = got.toString("latin1"), end = text.indexOf("\\r\\n\\r\\n"), length = /content-length: *(\\d+)/i.exec(text);
      if (end >= 0 && length && got.length >= end + 4 + Number(length[1])) done();
    });
    c.on("close", done); c.on("error", done); setTimeout(done, 10000);`;
  const r = await h.exec(name, ["node", "-e", script]);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? '""') as string;
}

/** The JSON refusal body of a raw HTTP answer. */
function bodyOf(answer: string): Record<string, unknown> {
  return JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
}

/** The pending approval for `host`, once the gateway has created it (up to 10 s). */
async function pendingApproval(host: string): Promise<{ id: string; binary: string }> {
  for (let i = 0; i < 100; i++) {
    const { approvals } = (await controlRequest(h.stateDir, "POST", "/egress/approvals/list", {})) as { approvals: Array<{ id: string; host: string; status: string; binary: string }> };
    const found = approvals.find((x) => x.host === host && x.status === "pending");
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no pending approval for ${host} within 10 s`);
}

beforeAll(async () => {
  h = await createSandboxHarness({ daemon: false });
  const ca = await createTestCa(h.stateDir);
  plain = await startHttpUpstream();
  secure = await startHttpsUpstream(ca);
  const caFile = path.join(h.stateDir, "upstream-ca.pem");
  await writeFile(caFile, ca.certPem);
  await writeFile(
    path.join(h.stateDir, "egress.json"),
    JSON.stringify({
      hostMap: {
        "api.sbx.test": "127.0.0.1", "l7.sbx.test": "127.0.0.1", "curl-only.sbx.test": "127.0.0.1", "unknown.sbx.test": "127.0.0.1",
        "evil.sbx.test": "127.0.0.1",
        // A documentation address (TEST-NET-2): refused before any connect.
        "docs.sbx.test": "198.51.100.7",
      },
      upstreamCaFiles: [caFile],
      approvalTimeoutMs: 20_000,
    }),
  );
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
  const base = await readFile(path.join(repoRoot, "policies/openclaw-sandbox.yaml"), "utf8");
  const policyFile = path.join(h.stateDir, "test-policy.yaml");
  await writeFile(
    policyFile,
    `${base}
  api:
    endpoints:
      - { host: api.sbx.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/local/bin/node }]
  l7:
    endpoints:
      - { host: l7.sbx.test, port: ${secure.port}, protocol: rest, tls: terminate, enforcement: enforce, access: read-only, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/local/bin/node }]
  curl_only:
    endpoints:
      - { host: curl-only.sbx.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]
  docs:
    endpoints:
      - { host: docs.sbx.test, port: 80 }
    binaries: [{ path: /usr/local/bin/node }]
`,
  );
  name = (await h.create("egress", { policyFile })).name;
}, 600_000);

afterAll(async () => {
  await h?.dispose();
  await plain?.close();
  await secure?.close();
});

describe("egress from inside a real sandbox", () => {
  it("an allowed destination answers, through the forwarder and the gateway", async () => {
    const r = await fetchInside(`http://api.sbx.test:${plain.port}/hello`);
    expect(r.status).toBe(200);
    expect(plain.seen.at(-1)?.url).toBe("/hello");
  });

  it("HTTPS with L7 rules: the sandbox trusts its CA, GET passes, POST is refused naming the rule", async () => {
    const get = await fetchInside(`https://l7.sbx.test:${secure.port}/items`);
    expect(get.status).toBe(200);
    const before = secure.seen.length;
    const post = await fetchInside(`https://l7.sbx.test:${secure.port}/items`, { method: "POST", body: "x" });
    expect(post.status).toBe(403);
    expect(JSON.parse(post.body ?? "{}")).toMatchObject({ rule: { policy: "l7", endpoint: 0 }, reason: expect.stringMatching(/POST/), next: expect.any(String) });
    expect(secure.seen.length).toBe(before);
  });

  it("a binary not named for an allowed host is refused (node on curl's host)", async () => {
    const before = plain.seen.length;
    const refusal = { error: "denied by policy", rule: { policy: "curl_only", endpoint: 0 }, reason: "/usr/local/bin/node is not in the binaries of network policy curl_only" };
    const r = await absoluteFormInside(`http://curl-only.sbx.test:${plain.port}/x`);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject(refusal);
    // fetch tunnels through CONNECT, which gets the same refusal.
    const tunnel = await rawInside(`CONNECT curl-only.sbx.test:${plain.port} HTTP/1.1\r\nHost: curl-only.sbx.test:${plain.port}\r\n\r\n`);
    expect(tunnel).toMatch(/^HTTP\/1\.1 403 /);
    expect(bodyOf(tunnel)).toMatchObject(refusal);
    expect(plain.seen.length).toBe(before);
  });

  it("a Host header naming another host than the URL is refused (absolute-form and CONNECT)", async () => {
    const api = `api.sbx.test:${plain.port}`;
    const byUrl = await rawInside(`GET http://${api}/host-spoof HTTP/1.1\r\nHost: evil.sbx.test:${plain.port}\r\n\r\n`);
    expect(byUrl).toMatch(/^HTTP\/1\.1 403 /);
    expect(bodyOf(byUrl)).toMatchObject({ error: "host mismatch", reason: `Host header "evil.sbx.test:${plain.port}" does not name the request URL's host ${api}` });
    const byConnect = await rawInside(`CONNECT ${api} HTTP/1.1\r\nHost: evil.sbx.test:${plain.port}\r\n\r\n`);
    expect(byConnect).toMatch(/^HTTP\/1\.1 403 /);
    expect(bodyOf(byConnect)).toMatchObject({ error: "host mismatch", reason: `Host header "evil.sbx.test:${plain.port}" does not name the CONNECT target ${api}` });
    expect(plain.seen.some((s) => s.url === "/host-spoof")).toBe(false);
  });

  it("a caller line forged by the workload is request bytes to the gateway: 400, never a borrowed identity", async () => {
    const api = `api.sbx.test:${plain.port}`;
    const forged = 'NEMOCLAW-CALLER {"pid":1,"exe":"/usr/bin/curl","ancestors":[]}\n';
    const out = await rawInside(`${forged}GET http://curl-only.sbx.test:${plain.port}/forged HTTP/1.1\r\nHost: curl-only.sbx.test:${plain.port}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(out)).toMatchObject({ error: "bad request", reason: expect.stringMatching(/^malformed HTTP \(HPE_\w+\)$/) });
    expect(plain.seen.some((s) => s.url === "/forged" || s.url === `http://${api}/forged`)).toBe(false);
  });

  it("a smuggled second request (Content-Length with Transfer-Encoding) is refused and never sent", async () => {
    const api = `api.sbx.test:${plain.port}`;
    const smuggled = `GET http://${api}/smuggled HTTP/1.1\r\nHost: ${api}\r\n\r\n`;
    const out = await rawInside(`POST http://${api}/front HTTP/1.1\r\nHost: ${api}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`);
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(out.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
    expect(bodyOf(out)).toMatchObject({ error: "bad request", reason: "ambiguous message framing (HPE_INVALID_TRANSFER_ENCODING): refused as possible request smuggling" });
    expect(plain.seen.some((s) => s.url === "/front" || s.url === "/smuggled")).toBe(false);
  });

  it("an oversized request head is refused with 431", async () => {
    const api = `api.sbx.test:${plain.port}`;
    const out = await rawInside(`GET http://${api}/big HTTP/1.1\r\nHost: ${api}\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(out)).toMatchObject({ error: "bad request", reason: expect.stringMatching(/^request head larger than \d+ bytes$/) });
    expect(plain.seen.some((s) => s.url === "/big")).toBe(false);
  });

  it("an allowed name the host maps to a documentation address is refused as a hard block", async () => {
    const r = await absoluteFormInside("http://docs.sbx.test/");
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({
      error: "blocked address",
      host: "docs.sbx.test",
      rule: { policy: "docs", endpoint: 0 },
      reason: "198.51.100.7 is reserved for special use (documentation, benchmarking, relay or future use); list it in the endpoint's allowed_ips to reach it",
    });
  });

  it("an unknown host is held for approval; allow once lets exactly that request through", async () => {
    const pending = fetchInside(`http://unknown.sbx.test:${plain.port}/held`);
    const approval = await pendingApproval("unknown.sbx.test");
    expect(approval.binary).toBe("/usr/local/bin/node");
    await controlRequest(h.stateDir, "POST", "/egress/approvals/decide", { id: approval.id, decision: "approve", allowedIps: ["127.0.0.1/32"] });
    expect((await pending).status).toBe(200);
    expect(plain.seen.at(-1)?.url).toBe("/held");
  });

  it("a denied approval answers 403 with a JSON body saying how to ask", async () => {
    const pending = absoluteFormInside(`http://unknown.sbx.test:${plain.port}/denied`);
    const approval = await pendingApproval("unknown.sbx.test");
    await controlRequest(h.stateDir, "POST", "/egress/approvals/decide", { id: approval.id, decision: "deny" });
    const r = await pending;
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ host: "unknown.sbx.test", port: plain.port, next: expect.stringMatching(/approv|polic/i) });
    expect(plain.seen.some((s) => s.url === "/denied")).toBe(false);
  });

  it("without the proxy variables there is no way out: no DNS, and Landlock refuses TCP to anything but the forwarder", async () => {
    const unset = ["-u", "HTTP_PROXY", "-u", "http_proxy", "-u", "HTTPS_PROXY", "-u", "https_proxy", "-u", "ALL_PROXY", "-u", "all_proxy", "NODE_USE_ENV_PROXY=0"];
    const before = plain.seen.length;
    const byName = await fetchInside(`http://api.sbx.test:${plain.port}/direct`, {}, unset);
    expect(byName.error).toMatch(/EAI_AGAIN|ENOTFOUND/);
    const byIp = await fetchInside(`http://127.0.0.1:${plain.port}/direct`, {}, unset);
    expect(byIp.error).toBe("EACCES");
    expect(plain.seen.length).toBe(before);
  });

  it("OpenClaw inside routes its own traffic through the forwarder (proxy.proxyUrl in its config)", async () => {
    const record = await h.driver.registry.get(name);
    expect(record.openclaw).not.toBeNull();
    const file = await h.exec(name, ["cat", "/sandbox/.openclaw/openclaw.json"]);
    expect(file.stdout).toContain('"proxyUrl": "http://127.0.0.1:3128"');
    // OpenClaw itself parses it (and redacts proxy URLs when printing them, as it does for credentials).
    const r = await h.exec(name, ["node", record.openclaw?.entry ?? "", "config", "get", "proxy.proxyUrl"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split("\n").pop()).toMatch(/^(http:\/\/127\.0\.0\.1:3128|__OPENCLAW_REDACTED__)$/);
    const unset = await h.exec(name, ["node", record.openclaw?.entry ?? "", "config", "get", "proxy.loopbackMode"]);
    expect(unset.stdout).not.toMatch(/REDACTED|127\.0\.0\.1/);
    // Two OpenClaw CLI starts inside a one-CPU sandbox: seconds each, far more on a loaded machine.
  }, 300_000);

  it("the decisions are in the sandbox's egress log, readable by people", async () => {
    const answer = (await controlRequest(h.stateDir, "POST", "/egress/logs", { sandbox: name })) as { ok: boolean; lines: string[] };
    expect(answer.ok).toBe(true);
    expect(answer.lines.join("\n")).toMatch(/DENIED .*node.* -> curl-only\.sbx\.test/);
  });
});
