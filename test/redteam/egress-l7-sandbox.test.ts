// The L7 bypasses, the SNI check and terminal injection tried from inside a real sandbox: the
// real driver and launcher, the supervisor's forwarder, the host daemon with the real gateway,
// upstreams on the host's 127.0.0.1. Each refusal is checked by its reason and against an
// upstream that must not have seen the request.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { createTestCa, startHttpsUpstream, startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { repoRoot } from "../helpers/node24.js";
import { fetchInside as fetchInsideSandbox, type InsideInit, type InsideReply } from "../helpers/inside-client.js";

let h: SandboxHarness;
let plain: Upstream;
let secure: Upstream;
let name: string;

/** Runs `script` with the sandbox's node as the workload; its last stdout line is JSON. */
async function nodeInside(script: string): Promise<Record<string, unknown>> {
  const r = await h.exec(name, ["node", "-e", script]);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`unexpected output: ${r.stdout}\n${r.stderr}`);
  }
}

/** fetch() from inside, as the workload. */
const fetchInside = (url: string, init: InsideInit = {}): Promise<InsideReply> => fetchInsideSandbox(h, name, url, init);

/** CONNECT through the forwarder, then a TLS handshake naming `servername`; prints {ok} or {error}. */
function tlsThroughTunnel(target: string, servername: string): Promise<Record<string, unknown>> {
  return nodeInside(`
const http = require("http"), tls = require("tls");
http.request({ host: "127.0.0.1", port: 3128, method: "CONNECT", path: ${JSON.stringify(target)}, headers: { host: ${JSON.stringify(target)} } })
  .on("connect", (res, socket) => {
    if (res.statusCode !== 200) return console.log(JSON.stringify({ connect: res.statusCode }));
    const s = tls.connect({ socket, servername: ${JSON.stringify(servername)}, rejectUnauthorized: false });
    s.once("secureConnect", () => { console.log(JSON.stringify({ ok: true })); s.destroy(); });
    s.once("error", (e) => console.log(JSON.stringify({ error: e.code ?? e.message })));
  })
  .on("error", (e) => console.log(JSON.stringify({ error: e.code ?? e.message })))
  .end();`);
}

async function egressLog(json = false): Promise<string[]> {
  const r = (await controlRequest(h.stateDir, "POST", "/egress/logs", { sandbox: name, json })) as { lines: string[] };
  return r.lines;
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
      hostMap: { "rest.sbx.test": "127.0.0.1", "tunnel.sbx.test": "127.0.0.1", "unknown.sbx.test": "127.0.0.1" },
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
  rest:
    endpoints:
      - host: rest.sbx.test
        port: ${secure.port}
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/repos/**" }
          - allow: { method: POST, path: "/items/**" }
        deny_rules:
          - { method: "*", path: "/repos/*/*/hooks" }
        allowed_ips: [127.0.0.1/32]
    binaries: [{ path: /usr/local/bin/node }]
  tunnel:
    endpoints:
      - { host: tunnel.sbx.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/local/bin/node }]
`,
  );
  name = (await h.create("l7", { policyFile })).name;
}, 600_000);

afterAll(async () => {
  await h?.dispose();
  await plain?.close();
  await secure?.close();
});

describe("L7 bypasses from inside a real sandbox", () => {
  it("a ; parameter does not carry a request past a deny rule", async () => {
    const r = await fetchInside(`https://rest.sbx.test:${secure.port}/repos/a/b/hooks;x=1`);
    expect(r.status).toBe(403);
    expect(JSON.parse(String(r.body))).toMatchObject({ rule: { policy: "rest", endpoint: 0 }, reason: expect.stringMatching(/; parameter/) });
    expect(secure.seen.some((s) => s.url.includes("hooks"))).toBe(false);
  });

  it("POST with X-HTTP-Method-Override: DELETE is judged as a DELETE", async () => {
    const r = await fetchInside(`https://rest.sbx.test:${secure.port}/items/1`, { method: "POST", body: "{}", headers: { "X-HTTP-Method-Override": "DELETE" } });
    expect(r.status).toBe(403);
    expect(JSON.parse(String(r.body))).toMatchObject({ reason: expect.stringMatching(/x-http-method-override: DELETE; no rule allows DELETE \/items\/1/) });
    expect(secure.seen.some((s) => s.url === "/items/1")).toBe(false);
    const plainPost = await fetchInside(`https://rest.sbx.test:${secure.port}/items/2`, { method: "POST", body: "{}" });
    expect(plainPost.status).toBe(200);
  });

  it("a pure tunnel refuses a ClientHello naming another server; the CONNECT host's own name passes", async () => {
    const evil = await tlsThroughTunnel(`tunnel.sbx.test:${secure.port}`, "evil.sbx.test");
    expect(evil.error).toBe("ERR_SSL_TLSV1_UNRECOGNIZED_NAME");
    expect((await egressLog()).some((l) => l.includes(`DENIED /usr/local/bin/node(`) && l.includes(`[reason:TLS SNI "evil.sbx.test" does not match the CONNECT target tunnel.sbx.test]`))).toBe(true);
    const good = await tlsThroughTunnel(`tunnel.sbx.test:${secure.port}`, "tunnel.sbx.test");
    expect(good).toEqual({ ok: true });
  });
});

describe("terminal injection from inside a real sandbox", () => {
  it("an executable whose name carries escape sequences is shown inert in the egress log", async () => {
    // A copy of node under a name that retitles the terminal, clears it and reverses text.
    const evilName = "/sandbox/x\u001b]0;owned\u0007\u001b[2J\u202eexe";
    const url = `http://unknown.sbx.test:${plain.port}/escape`;
    const pending = nodeInside(`
const fs = require("fs"), { spawnSync } = require("child_process");
const exe = ${JSON.stringify(evilName)};
fs.copyFileSync(process.execPath, exe); fs.chmodSync(exe, 0o755);
const r = spawnSync(exe, ["-e", ${JSON.stringify(`require("http").get({ host: "127.0.0.1", port: 3128, path: ${JSON.stringify(url)}, headers: { host: new URL(${JSON.stringify(url)}).host } }, (r) => { console.log(r.statusCode); process.exit(0); }).on("error", (e) => console.log(e.code))`)}], { encoding: "utf8" });
console.log(JSON.stringify(r.error ? { error: String(r.error.code ?? r.error.message) } : { out: r.stdout.trim() }));`);
    let approval: { id: string; binary: string } | undefined;
    let early: Record<string, unknown> | undefined;
    void pending.then((r) => (early = r));
    for (let i = 0; i < 100 && approval === undefined && early === undefined; i++) {
      const { approvals } = (await controlRequest(h.stateDir, "POST", "/egress/approvals/list", {})) as { approvals: Array<{ id: string; host: string; binary: string }> };
      approval = approvals.find((a) => a.host === "unknown.sbx.test");
      if (approval === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    // The data keeps the real name (the operator's tools may need it) …
    expect(early).toBeUndefined();
    expect(approval?.binary).toBe(evilName);
    await controlRequest(h.stateDir, "POST", "/egress/approvals/decide", { id: approval?.id, decision: "deny" });
    expect(await pending).toEqual({ out: "403" });
    // … and what is printed shows it as escapes, with nothing a terminal would act on.
    const held = (await egressLog()).filter((l) => l.includes("unknown.sbx.test"));
    expect(held.length).toBeGreaterThan(0);
    expect(held.join("\n")).toContain("HELD /sandbox/x\\x1b]0;owned\\x07\\x1b[2J\\u202eexe(");
    for (const line of held) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
    const asJson = (await egressLog(true)).filter((l) => l.includes("unknown.sbx.test"));
    for (const line of asJson) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
    expect(asJson.some((l) => (JSON.parse(l) as { actor: { process: { file: { path: string } } } }).actor.process.file.path === evilName)).toBe(true);
  });
});
