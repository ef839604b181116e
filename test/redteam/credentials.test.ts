// Credentials seen from inside a real sandbox: the real keys must be nowhere the workload can
// look, nowhere in what Docker knows about the container, and never in a log; a placeholder is
// swapped only on the way to the endpoint its credential is bound to and refused anywhere else
// we can see; the inference router cannot be steered to another destination.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { sandboxDir } from "../../blueprint/state/paths.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { createTestCa, startHttpsUpstream, startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { fetchInside, postJson } from "../helpers/inside-client.js";
import { repoRoot } from "../helpers/node24.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const REAL_OPENAI = "sk-proj-REALopenaiKEYredteam7f3a9c2e1b0d4f6a8c0e2b4d6f8a0c2e4b6d8f0a";
const REAL_GITHUB = "ghp_REALgithubTOKENredteam0123456789abcd";
const REAL_TELEGRAM = "7012345678:AAREALtelegramTOKENredteam0123456789abc";
const REAL_SEARCH = "REALsearchKEYredteam0123456789abcdef";
const SECRETS = [REAL_OPENAI, REAL_GITHUB, REAL_TELEGRAM, REAL_SEARCH];

let h: SandboxHarness;
let name: string;
let secure: Upstream;
let plain: Upstream;
/** api.telegram.org (by the host map) and a search API taking its key in the query: neither repeats what it was sent. */
let telegram: Upstream;
let search: Upstream;
let stub: StubServer;
let failing: StubServer;
let ghPlaceholder: string;
let openaiPlaceholder: string;
let tgPlaceholder: string;
let searchPlaceholder: string;
const daemonLog: string[] = [];

/** An absolute-form request straight to the forwarder: the gateway reads every byte of it. */
function absoluteInside(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status?: number; body?: string; error?: string }> {
  const script = `const [url, init] = [process.argv[1], JSON.parse(process.argv[2])];
require("http").request({ host: "127.0.0.1", port: 3128, method: init.method ?? "GET", path: url, headers: { host: new URL(url).host, ...init.headers } }, (r) => { let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => console.log(JSON.stringify({ status: r.statusCode, body: b }))); }).on("error", (e) => console.log(JSON.stringify({ error: e.code ?? e.message }))).end(init.body);`;
  return h.exec(name, ["node", "-e", script, url, JSON.stringify(init)]).then((r) => JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { status?: number; body?: string; error?: string });
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: "routed", messages: [{ role: "user", content: "hi" }], ...extra });
const leaks = (text: string): string[] => SECRETS.filter((s) => text.includes(s));

beforeAll(async () => {
  h = await createSandboxHarness({ daemon: false });
  const ca = await createTestCa(h.stateDir);
  secure = await startHttpsUpstream(ca);
  plain = await startHttpUpstream();
  telegram = await startHttpsUpstream(ca, "api.telegram.org", { echo: false });
  search = await startHttpsUpstream(ca, "search.sbx.test", { echo: false });
  stub = await startStub("openai", { tag: "oai" });
  failing = await startStub("openai", { failWith: 401 });
  const caFile = path.join(h.stateDir, "upstream-ca.pem");
  await writeFile(caFile, ca.certPem);
  await writeFile(
    path.join(h.stateDir, "egress.json"),
    JSON.stringify({
      hostMap: { "gh.sbx.test": "127.0.0.1", "other.sbx.test": "127.0.0.1", "tunnel.sbx.test": "127.0.0.1", "api.telegram.org": "127.0.0.1", "search.sbx.test": "127.0.0.1" },
      upstreamCaFiles: [caFile],
    }),
  );
  const credentials = new CredentialStore(h.stateDir);
  await credentials.add({ name: "openai", secret: REAL_OPENAI });
  await credentials.add({ name: "gh", kind: "github", secret: REAL_GITHUB, bindings: [{ in: "header", host: "gh.sbx.test", port: secure.port, name: "authorization" }] });
  await credentials.add({ name: "tg", kind: "telegram-bot", secret: REAL_TELEGRAM, bindings: [{ in: "path", host: "api.telegram.org", port: telegram.port, prefix: "bot" }] });
  await credentials.add({ name: "search", kind: "generic", secret: REAL_SEARCH, bindings: [{ in: "query", host: "search.sbx.test", port: search.port, name: "key" }] });
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: (m) => daemonLog.push(m) });
  const base = await readFile(path.join(repoRoot, "policies/openclaw-sandbox.yaml"), "utf8");
  const policyFile = path.join(h.stateDir, "test-policy.yaml");
  const allow = (key: string, host: string, port: number) =>
    `  ${key}:\n    endpoints:\n      - { host: ${host}, port: ${port}, allowed_ips: [127.0.0.1/32] }\n    binaries: [{ path: /usr/local/bin/node }]\n`;
  await writeFile(policyFile, `${base}\n${allow("gh", "gh.sbx.test", secure.port)}${allow("other", "other.sbx.test", plain.port)}${allow("tunnel", "tunnel.sbx.test", plain.port)}${allow("tg", "api.telegram.org", telegram.port)}${allow("search", "search.sbx.test", search.port)}`);
  name = (await h.create("creds", { policyFile })).name;
  ghPlaceholder = await credentials.placeholder(name, "gh");
  openaiPlaceholder = await credentials.placeholder(name, "openai");
  tgPlaceholder = await credentials.placeholder(name, "tg");
  searchPlaceholder = await credentials.placeholder(name, "search");
  const set = (await controlRequest(h.stateDir, "POST", "/inference/set", { sandbox: name, provider: "openai", model: "stub-model", baseUrl: stub.baseUrl })) as { ok: boolean };
  if (!set.ok) throw new Error("inference/set failed");
}, 900_000);

afterAll(async () => {
  await h?.dispose();
  await secure?.close();
  await plain?.close();
  await telegram?.close();
  await search?.close();
  await stub?.close();
  await failing?.close();
});

describe("placeholders", () => {
  it("look like the real thing, and are not it", () => {
    expect(ghPlaceholder).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(ghPlaceholder).not.toBe(REAL_GITHUB);
  });

  it("are swapped for the real value on the endpoint their credential is bound to (TLS terminated though the policy has no L7 rules)", async () => {
    const before = secure.seen.length;
    const r = await fetchInside(h, name, `https://gh.sbx.test:${secure.port}/user`, { headers: { authorization: `Bearer ${ghPlaceholder}` } });
    expect(r.status).toBe(200);
    expect(secure.seen[before]?.headers.authorization).toBe(`Bearer ${REAL_GITHUB}`);
  }, 120_000);

  it("in another header of the bound host: refused 403 credential_endpoint_mismatch, nothing sent", async () => {
    const before = secure.seen.length;
    const r = await fetchInside(h, name, `https://gh.sbx.test:${secure.port}/user`, { headers: { "x-token": ghPlaceholder } });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: "credential_endpoint_mismatch", reason: expect.stringMatching(/^credential_endpoint_mismatch: .*"gh".*header x-token/) });
    expect(secure.seen.length).toBe(before);
  }, 120_000);

  it("sent in clear text to its own bound endpoint: refused 403 credential_plaintext, the real value never leaves unencrypted", async () => {
    const before = secure.seen.length;
    const r = await absoluteInside(`http://gh.sbx.test:${secure.port}/user`, { headers: { authorization: `Bearer ${ghPlaceholder}` } });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: "credential_plaintext", reason: expect.stringMatching(/^credential_plaintext: .*"gh".*unencrypted/) });
    expect(secure.seen.length).toBe(before);
  }, 120_000);

  it("sent to an unbound host we can read: refused 403 credential_endpoint_mismatch, not replaced, and audited", async () => {
    const before = plain.seen.length;
    const r = await absoluteInside(`http://other.sbx.test:${plain.port}/collect?t=${ghPlaceholder}`, { headers: { authorization: `Bearer ${ghPlaceholder}` } });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: "credential_endpoint_mismatch", host: "other.sbx.test" });
    expect(plain.seen.length).toBe(before);
    const logs = (await controlRequest(h.stateDir, "POST", "/egress/logs", { sandbox: name })) as { lines: string[] };
    expect(logs.lines.join("\n")).toMatch(/other\.sbx\.test.*credential_endpoint_mismatch/);
  }, 120_000);

  it("inside a pure tunnel to an unbound host it cannot be seen, so it arrives as the placeholder it is", async () => {
    // Node's fetch sends http:// through CONNECT: unbound and without L7 rules, that is a pure tunnel.
    const before = plain.seen.length;
    const r = await fetchInside(h, name, `http://tunnel.sbx.test:${plain.port}/x`, { headers: { authorization: `Bearer ${ghPlaceholder}` } });
    expect(r.status).toBe(200);
    expect(plain.seen[before]?.headers.authorization).toBe(`Bearer ${ghPlaceholder}`);
  }, 120_000);
});

describe("placeholders in the URL path and the query", () => {
  it("look like a Telegram token (the SDKs check the format locally) and like a generic secret", () => {
    expect(tgPlaceholder).toMatch(/^[1-9]\d{9}:AA[A-Za-z0-9_-]{33}$/);
    expect(searchPlaceholder).toMatch(/^ncph_[A-Za-z0-9]{40}$/);
  });

  it("Telegram's /bot<token>/: swapped in the path segment on api.telegram.org; the sandbox only ever had the placeholder", async () => {
    const before = telegram.seen.length;
    const r = await fetchInside(h, name, `https://api.telegram.org:${telegram.port}/bot${tgPlaceholder}/getMe?offset=1`);
    expect(r.status).toBe(200);
    expect(telegram.seen.length).toBe(before + 1);
    expect(telegram.seen[before]?.url).toBe(`/bot${REAL_TELEGRAM}/getMe?offset=1`);
    expect(leaks(r.body ?? "")).toEqual([]);
    const logs = (await controlRequest(h.stateDir, "POST", "/egress/logs", { sandbox: name })) as { lines: string[] };
    const line = logs.lines.filter((l) => l.includes("api.telegram.org")).at(-1) ?? "";
    expect(line).toMatch(/credential substituted: tg \(URL path\)/);
    expect(leaks(line)).toEqual([]);
  }, 120_000);

  it("a query-bound key: swapped in its parameter on its host, the other parameters untouched", async () => {
    const before = search.seen.length;
    const r = await fetchInside(h, name, `https://search.sbx.test:${search.port}/res/v1/web/search?q=nemo+claw&key=${searchPlaceholder}&count=3`);
    expect(r.status).toBe(200);
    expect(search.seen[before]?.url).toBe(`/res/v1/web/search?q=nemo+claw&key=${REAL_SEARCH}&count=3`);
    expect(leaks(r.body ?? "")).toEqual([]);
  }, 120_000);

  const refused = async (url: string, credential: string, where: RegExp, upstreams: Upstream[]): Promise<void> => {
    const before = upstreams.map((u) => u.seen.length);
    const r = await fetchInside(h, name, url);
    expect(r.status).toBe(403);
    const body = JSON.parse(r.body ?? "{}") as { error?: string; reason?: string };
    expect(body.error).toBe("credential_endpoint_mismatch");
    expect(body.reason).toMatch(new RegExp(`^credential_endpoint_mismatch: the placeholder of credential "${credential}" \\(in the ${where.source}\\)`));
    expect(upstreams.map((u) => u.seen.length)).toEqual(before);
  };

  it("the Telegram placeholder in the path to another host, or in another segment or the query of its own: refused 403, nothing sent", async () => {
    await refused(`https://gh.sbx.test:${secure.port}/bot${tgPlaceholder}/getMe`, "tg", /URL path/, [secure, telegram]);
    await refused(`https://api.telegram.org:${telegram.port}/${tgPlaceholder}/getMe`, "tg", /URL path/, [secure, telegram]);
    await refused(`https://api.telegram.org:${telegram.port}/bot${tgPlaceholder}/getMe?chat=${tgPlaceholder}`, "tg", /query parameter chat/, [secure, telegram]);
  }, 180_000);

  it("the query-bound placeholder in the query of another host, or in another parameter or the path of its own: refused 403, nothing sent", async () => {
    await refused(`https://gh.sbx.test:${secure.port}/search?key=${searchPlaceholder}`, "search", /query parameter key/, [secure, search]);
    await refused(`https://search.sbx.test:${search.port}/res/v1/web/search?q=${searchPlaceholder}`, "search", /query parameter q/, [secure, search]);
    await refused(`https://search.sbx.test:${search.port}/key=${searchPlaceholder}`, "search", /URL path/, [secure, search]);
    const logs = (await controlRequest(h.stateDir, "POST", "/egress/logs", { sandbox: name })) as { lines: string[] };
    expect(logs.lines.join("\n")).toMatch(/gh\.sbx\.test.*credential_endpoint_mismatch.*"search"/);
  }, 180_000);
});

describe("the inference router", () => {
  it("/v1/models and a forced upstream 401 do not echo the key; the error keeps the status and says what to do", async () => {
    const models = await fetchInside(h, name, "http://inference.local/v1/models", { headers: { authorization: `Bearer ${openaiPlaceholder}` } });
    expect(models.status).toBe(200);
    expect(leaks(models.body ?? "")).toEqual([]);
    await controlRequest(h.stateDir, "POST", "/inference/set", { sandbox: name, provider: "openai", model: "stub-model", baseUrl: failing.baseUrl });
    try {
      const r = await fetchInside(h, name, "http://inference.local/v1/chat/completions", postJson(chat(), { authorization: `Bearer ${openaiPlaceholder}` }));
      expect(failing.requests.at(-1)?.headers.authorization).toBe(`Bearer ${REAL_OPENAI}`);
      expect(r.status).toBe(401);
      expect(leaks(r.body ?? "")).toEqual([]);
      expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: { code: "upstream_error", message: expect.stringMatching(/401 from OpenAI.*credentials add openai/) } });
    } finally {
      await controlRequest(h.stateDir, "POST", "/inference/set", { sandbox: name, provider: "openai", model: "stub-model", baseUrl: stub.baseUrl });
    }
  }, 120_000);

  it("a model name that is a URL is refused; the destination stays the route's", async () => {
    const before = { stub: stub.requests.length, plain: plain.seen.length };
    const r = await fetchInside(h, name, "http://inference.local/v1/chat/completions", postJson(chat({ model: `http://other.sbx.test:${plain.port}/v1` })));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: { code: "invalid_model" } });
    expect(stub.requests.length).toBe(before.stub);
    expect(plain.seen.length).toBe(before.plain);
  }, 120_000);

  it("an absolute URL in the path reaches no one", async () => {
    const before = { stub: stub.requests.length, plain: plain.seen.length };
    const r = await absoluteInside(`http://inference.local/http://other.sbx.test:${plain.port}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat()) });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: "denied by policy", host: "inference.local" });
    expect(stub.requests.length).toBe(before.stub);
    expect(plain.seen.length).toBe(before.plain);
  }, 120_000);

  it("a Host header naming another host is refused by the gateway before the router sees it", async () => {
    const before = { stub: stub.requests.length, plain: plain.seen.length };
    const r = await absoluteInside("http://inference.local/v1/chat/completions", { method: "POST", headers: { host: `other.sbx.test:${plain.port}`, "content-type": "application/json" }, body: JSON.stringify(chat()) });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body ?? "{}")).toMatchObject({ error: "host mismatch" });
    expect(stub.requests.length).toBe(before.stub);
    expect(plain.seen.length).toBe(before.plain);
  }, 120_000);

  it("is not an open relay: forwarding headers are dropped and the request still goes to the route", async () => {
    const before = { stub: stub.requests.length, plain: plain.seen.length };
    const steer = { "x-forwarded-host": `other.sbx.test:${plain.port}`, forwarded: `host=other.sbx.test:${plain.port}`, "x-original-url": `http://other.sbx.test:${plain.port}/`, "x-upstream": `http://other.sbx.test:${plain.port}` };
    const r = await fetchInside(h, name, "http://inference.local/v1/chat/completions", postJson(chat(), steer));
    expect(r.status).toBe(200);
    expect(stub.requests.length).toBe(before.stub + 1);
    const seen = stub.requests.at(-1)?.headers ?? {};
    for (const header of Object.keys(steer)) expect(seen[header]).toBeUndefined();
    expect(plain.seen.length).toBe(before.plain);
  }, 120_000);
});

describe("the real keys are nowhere inside", () => {
  it("not in any file the workload can read, nor in /proc/*/environ or /proc/*/cmdline of any process", async () => {
    // The scanner gets what to look for on stdin, so the keys are never in an argv or environment
    // inside. It looks for middle pieces: any copy of a key contains them.
    const needles = SECRETS.map((s) => s.slice(8, 32));
    const scan = `
const fs = require("fs"); const path = require("path");
const needles = JSON.parse(fs.readFileSync(0, "utf8"));
const hits = []; let files = 0;
const check = (file, text) => { for (const n of needles) if (text.includes(n)) hits.push(file); };
const walk = (dir) => {
  let entries; try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (!["/proc", "/sys", "/dev"].includes(p)) walk(p); continue; }
    if (!e.isFile()) continue;
    try { const st = fs.statSync(p); if (st.size > 16 * 1024 * 1024) continue; check(p, fs.readFileSync(p, "latin1")); files++; } catch {}
  }
};
// "/" itself is not listable under Landlock: walk every top-level directory (what is not readable is not readable).
for (const top of ["bin", "boot", "etc", "home", "lib", "lib64", "media", "mnt", "opt", "root", "run", "sandbox", "sbin", "srv", "tmp", "usr", "var"]) walk("/" + top);
for (const pid of fs.readdirSync("/proc").filter((d) => /^\\d+$/.test(d))) {
  for (const f of ["environ", "cmdline"]) { try { check("/proc/" + pid + "/" + f, fs.readFileSync("/proc/" + pid + "/" + f, "latin1")); files++; } catch {} }
}
check("process.env", JSON.stringify(process.env));
console.log(JSON.stringify({ hits, files }));`;
    const r = await h.exec(name, ["node", "-e", scan], JSON.stringify(needles));
    const result = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { hits: string[]; files: number };
    expect(result.files).toBeGreaterThan(1000);
    expect(result.hits).toEqual([]);
  }, 600_000);

  it("not in docker inspect of the container, nor in the image's history", async () => {
    const record = await h.driver.registry.get(name);
    const docker = (h.driver as unknown as { docker: import("dockerode") }).docker;
    const inspect = JSON.stringify(await docker.getContainer(`nemoclaw-${name}`).inspect());
    expect(leaks(inspect)).toEqual([]);
    expect(inspect).not.toContain(ghPlaceholder.slice(4)); // no placeholder baked in either: they are only given to the workload's config
    const history = JSON.stringify(await docker.getImage(record.image).history());
    expect(leaks(history)).toEqual([]);
  }, 120_000);

  it("not in the egress audit log, the inference audit log, or the daemon's log", async () => {
    await controlRequest(h.stateDir, "POST", "/inference/logs", { sandbox: name });
    const dir = sandboxDir(h.stateDir, name);
    const egress = await readFile(path.join(dir, "egress", "logs", "egress.jsonl"), "utf8");
    const inference = await readFile(path.join(dir, "inference", "inference.jsonl"), "utf8");
    expect(egress.length).toBeGreaterThan(0);
    expect(inference.length).toBeGreaterThan(0);
    expect(leaks(egress)).toEqual([]);
    expect(leaks(inference)).toEqual([]);
    expect(leaks(daemonLog.join("\n"))).toEqual([]);
  }, 60_000);
});
