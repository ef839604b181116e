import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callRoute, controlRoutes } from "../../blueprint/gateway/egress-routes.js";
import type { ControlRoutes } from "../../blueprint/gateway/egress-routes.js";
import { parsePolicy } from "../../blueprint/policy/load.js";
import { CURL, policy, proxyRequest, startGateway, startHttpUpstream, testCallerSecretFile } from "../helpers/gateway-harness.js";
import type { GatewayHarness, Upstream } from "../helpers/gateway-harness.js";

let gw: GatewayHarness;
let upstream: Upstream;
let routes: ControlRoutes;
let policyFile: string;

const BASE = `version: 1
filesystem_policy:
  read_only: [/usr]
  read_write: [/sandbox]
network_policies:
  a:
    endpoints: [{ host: a.example.test, port: 80 }]
    binaries: [{ path: /usr/bin/curl }]
`;

beforeAll(async () => {
  upstream = await startHttpUpstream();
  gw = await startGateway(policy(BASE), { hostMap: { "a.example.test": "127.0.0.1", "b.example.test": "127.0.0.1" }, approvalTimeoutMs: 5_000 });
  policyFile = path.join(gw.dir, "live-policy.yaml");
  await gw.gateway.removeSandbox(gw.sandbox);
  await gw.gateway.addSandbox(gw.sandbox, { policy: policy(BASE), stateDir: path.join(gw.dir, "state"), policyFile, callerSecretFile: await testCallerSecretFile(gw.dir) });
  routes = controlRoutes(gw.gateway);
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

describe("control routes", () => {
  it("policy.get returns the dynamic part by default and everything with full", async () => {
    const dyn = (await callRoute(routes, "policy.get", { sandbox: "test" })) as { ok: true; yaml: string };
    expect(dyn.ok).toBe(true);
    expect(dyn.yaml).toMatch(/network_policies:/);
    expect(dyn.yaml).not.toMatch(/filesystem_policy/);
    const full = (await callRoute(routes, "policy.get", { sandbox: "test", full: true })) as { yaml: string };
    expect(full.yaml).toMatch(/filesystem_policy/);
    expect(await callRoute(routes, "policy.get", { sandbox: "nope" })).toMatchObject({ ok: false, error: "not-found" });
  });

  it("policy.set rejects an invalid policy with located issues and keeps the old one", async () => {
    const r = (await callRoute(routes, "policy.set", {
      sandbox: "test",
      file: "mine.yaml",
      yaml: "version: 1\nnetwork_policies:\n  x:\n    endpoints: [{ host: '*.com', port: 99999 }]\n",
    })) as { ok: false; error: string; issues: Array<{ file: string; line: number; field: string }> };
    expect(r).toMatchObject({ ok: false, error: "invalid-policy" });
    expect(r.issues.length).toBeGreaterThanOrEqual(2);
    expect(r.issues[0]).toMatchObject({ file: "mine.yaml", line: 4 });
    expect(gw.gateway.getPolicy("test").network_policies?.x).toBeUndefined();
  });

  it("policy.set refuses a static change with recreate-needed and applies nothing", async () => {
    const r = await callRoute(routes, "policy.set", { sandbox: "test", yaml: BASE.replace("[/usr]", "[/usr, /opt]").replace("a:", "c:") });
    expect(r).toMatchObject({ ok: false, error: "recreate-needed", sections: ["filesystem_policy"] });
    expect(gw.gateway.getPolicy("test").network_policies?.c).toBeUndefined();
  });

  it("policy.diff names what would change; policy.set applies it live and persists it", async () => {
    const next = `version: 1
network_policies:
  b:
    endpoints: [{ host: b.example.test, port: ${upstream.port}, allowed_ips: [127.0.0.1/32] }]
    binaries: [{ path: /usr/bin/curl }]
`;
    const diff = await callRoute(routes, "policy.diff", { sandbox: "test", yaml: next });
    expect(diff).toMatchObject({ ok: true, added: ["b"], removed: ["a"], changed: [], changes: { recreateNeeded: false } });
    const set = await callRoute(routes, "policy.set", { sandbox: "test", yaml: next });
    expect(set).toMatchObject({ ok: true, changes: { dynamic: ["network_policies"] }, closed: 0 });
    expect((await proxyRequest(gw.socketPath, CURL, `http://b.example.test:${upstream.port}/`)).status).toBe(200);
    const onDisk = parsePolicy(await readFile(policyFile, "utf8")).policy;
    expect(Object.keys(onDisk.network_policies ?? {})).toEqual(["b"]);
    expect(onDisk.filesystem_policy).toEqual({ read_only: ["/usr"], read_write: ["/sandbox"] });
  });

  it("policy.addPreset merges a shipped preset live", async () => {
    const r = await callRoute(routes, "policy.addPreset", { sandbox: "test", preset: "github" });
    expect(r).toMatchObject({ ok: true, added: ["github", "github_downloads"] });
    expect(await callRoute(routes, "policy.addPreset", { sandbox: "test", preset: "no-such" })).toMatchObject({ ok: false, error: "invalid-policy" });
  });

  it("approvals.list and approvals.decide drive a held request", async () => {
    const pending = proxyRequest(gw.socketPath, CURL, `http://c.example.test:${upstream.port}/held`);
    let list: { approvals: Array<{ id: string; host: string }> } = { approvals: [] };
    for (let i = 0; i < 200 && list.approvals.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
      list = (await callRoute(routes, "approvals.list", { sandbox: "test" })) as typeof list;
    }
    expect(list.approvals[0]).toMatchObject({ host: "c.example.test" });
    expect(await callRoute(routes, "approvals.decide", { id: list.approvals[0]!.id, decision: "approve", allowedIps: ["0.0.0.0/0"] })).toMatchObject({
      ok: false,
      error: "bad-request",
    });
    const decided = await callRoute(routes, "approvals.decide", { id: list.approvals[0]!.id, decision: "deny" });
    expect(decided).toMatchObject({ ok: true, approval: { status: "deny" } });
    expect((await pending).status).toBe(403);
    expect(await callRoute(routes, "approvals.decide", { id: "ffffffff", decision: "deny" })).toMatchObject({ ok: false, error: "not-found" });
  });

  it("logs.egress renders the audit log", async () => {
    const r = (await callRoute(routes, "logs.egress", { sandbox: "test" })) as { ok: true; lines: string[] };
    expect(r.lines.some((l) => / ALLOWED \/usr\/bin\/curl\(64\) -> b\.example\.test:\d+ GET \/ \[policy:b rule:b#0\]/.test(l))).toBe(true);
    expect(r.lines.some((l) => / DENIED \/usr\/bin\/curl\(64\) -> c\.example\.test:\d+ GET \/held \[policy:- rule:-\] \[reason:approval \w+ was denied\]/.test(l))).toBe(true);
  });

  it("rejects malformed requests and unknown routes", async () => {
    expect(await callRoute(routes, "policy.set", { sandbox: "test" })).toMatchObject({ ok: false, error: "bad-request" });
    expect(await callRoute(routes, "approvals.list", { extra: 1 })).toMatchObject({ ok: false, error: "bad-request" });
    expect(await callRoute(routes, "toString", {})).toMatchObject({ ok: false, error: "not-found" });
  });
});
