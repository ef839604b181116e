import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { parsePolicy } from "../../blueprint/policy/load.js";
import type { ApprovalEvent } from "../../blueprint/gateway/approvals.js";
import { connectTunnel, CURL, NODE, policy, proxyRequest, startGateway, startHttpUpstream, testCallerSecretFile } from "../helpers/gateway-harness.js";
import type { GatewayHarness, Upstream } from "../helpers/gateway-harness.js";

let upstream: Upstream;
let gw: GatewayHarness | undefined;
const hostMap = { "new.example.test": "127.0.0.1", "other.example.test": "127.0.0.1" };
const base = () => policy("version: 1\nnetwork_policies: {}\n");

beforeAll(async () => {
  upstream = await startHttpUpstream();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function waitForApprovals(h: GatewayHarness, count: number, waiting = 1): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const list = h.gateway.approvals.list(h.sandbox);
    if (list.length >= count && list.every((a) => a.waiting >= waiting)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("approval did not appear");
}

describe("approvals", () => {
  it("allow-once lets the held request through and asks again next time", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 5_000 });
    const url = `http://new.example.test:${upstream.port}/first`;
    const pending = proxyRequest(gw.socketPath, CURL, url);
    await waitForApprovals(gw, 1);
    const [approval] = gw.gateway.approvals.list();
    expect(approval).toMatchObject({
      sandbox: "test", host: "new.example.test", port: upstream.port, binary: "/usr/bin/curl",
      caller: CURL, request: { method: "GET", path: "/first" }, status: "pending",
    });
    await gw.gateway.decideApproval(approval!.id, "allow-once", { allowedIps: ["127.0.0.1/32"] });
    expect((await pending).status).toBe(200);
    const again = proxyRequest(gw.socketPath, CURL, url);
    await waitForApprovals(gw, 1);
    expect(gw.gateway.approvals.list()[0]?.id).not.toBe(approval!.id);
    await gw.gateway.decideApproval(gw.gateway.approvals.list()[0]!.id, "deny");
    const denied = await again;
    expect(denied.status).toBe(403);
    expect(denied.json()).toMatchObject({ error: "denied by operator", host: "new.example.test" });
  });

  it("allow-always adds an endpoint+binary rule, persists the policy file atomically, and stops asking", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 5_000 });
    const policyFile = path.join(gw.dir, "policy.yaml");
    await gw.gateway.removeSandbox(gw.sandbox);
    await gw.gateway.addSandbox(gw.sandbox, { policy: base(), stateDir: path.join(gw.dir, "state"), policyFile, callerSecretFile: await testCallerSecretFile(gw.dir) });
    const url = `http://new.example.test:${upstream.port}/always`;
    const pending = proxyRequest(gw.socketPath, CURL, url);
    await waitForApprovals(gw, 1);
    await gw.gateway.decideApproval(gw.gateway.approvals.list()[0]!.id, "allow-always", { allowedIps: ["127.0.0.1/32"] });
    expect((await pending).status).toBe(200);
    // On disk: a valid policy with the rule, mode 0600, no temp file left behind.
    const onDisk = parsePolicy(await readFile(policyFile, "utf8")).policy;
    const rule = onDisk.network_policies?.[`approved_new.example.test_${upstream.port}`];
    expect(rule).toMatchObject({ endpoints: [{ host: "new.example.test", port: upstream.port, allowed_ips: ["127.0.0.1/32"] }], binaries: [{ path: "/usr/bin/curl" }] });
    expect((await stat(policyFile)).mode & 0o777).toBe(0o600);
    expect((await readdir(gw.dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    // Live: no approval needed any more for this binary; another binary is refused by the new rule.
    expect((await proxyRequest(gw.socketPath, CURL, url)).status).toBe(200);
    expect(gw.gateway.approvals.list()).toEqual([]);
    const other = await proxyRequest(gw.socketPath, NODE, url);
    expect(other.status).toBe(403);
    expect(other.json()).toMatchObject({ rule: { policy: `approved_new.example.test_${upstream.port}`, endpoint: 0 } });
  });

  it("deny-always refuses at once afterwards and is persisted", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 5_000 });
    const pending = connectTunnel(gw.socketPath, CURL, "other.example.test:443");
    await waitForApprovals(gw, 1);
    await gw.gateway.decideApproval(gw.gateway.approvals.list()[0]!.id, "deny-always");
    expect((await pending).status).toBe(403);
    const started = Date.now();
    const again = await connectTunnel(gw.socketPath, CURL, "other.example.test:443");
    expect(again.status).toBe(403);
    expect(again.text).toMatch(/deny-always/);
    expect(Date.now() - started).toBeLessThan(1000);
    const denied = JSON.parse(await readFile(path.join(gw.dir, "state", "egress-denied.json"), "utf8")) as unknown;
    expect(denied).toEqual({ version: 1, denied: [{ host: "other.example.test", port: 443, binary: "/usr/bin/curl" }] });
  });

  it("times out with a 403 that says so", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 150 });
    const started = Date.now();
    const r = await proxyRequest(gw.socketPath, CURL, `http://new.example.test:${upstream.port}/`);
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ error: "approval timed out", reason: expect.stringMatching(/timed out after 150 ms/) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(gw.gateway.approvals.list()).toEqual([]);
  });

  it("concurrent requests to one destination share one approval and are all released by one decision", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 5_000 });
    const url = `http://new.example.test:${upstream.port}/shared`;
    const events: ApprovalEvent[] = [];
    const controller = new AbortController();
    const watching = (async () => {
      for await (const event of gw.gateway.approvals.watch(controller.signal)) events.push(event);
    })();
    const requests = Array.from({ length: 8 }, () => proxyRequest(gw!.socketPath, CURL, url));
    await waitForApprovals(gw, 1, 8);
    const list = gw.gateway.approvals.list();
    expect(list).toHaveLength(1);
    expect(list[0]?.waiting).toBe(8);
    await gw.gateway.decideApproval(list[0]!.id, "allow-once", { allowedIps: ["127.0.0.1/32"] });
    const results = await Promise.all(requests);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    controller.abort();
    await watching;
    expect(events.map((e) => e.type)).toEqual(["pending", "decided"]);
  });

  it("an approval cannot lift a hard block: allow without allowed_ips to a loopback name is refused", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 5_000 });
    const pending = proxyRequest(gw.socketPath, CURL, `http://new.example.test:${upstream.port}/`);
    await waitForApprovals(gw, 1);
    await gw.gateway.decideApproval(gw.gateway.approvals.list()[0]!.id, "allow-once");
    const r = await pending;
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ error: "blocked address", reason: expect.stringMatching(/127\.0\.0\.1 is loopback/) });
  });

  it("a policy change that covers a held destination releases it", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 5_000 });
    const pending = proxyRequest(gw.socketPath, CURL, `http://new.example.test:${upstream.port}/`);
    await waitForApprovals(gw, 1);
    gw.gateway.setPolicy(gw.sandbox, policy(`
version: 1
network_policies:
  added:
    endpoints: [{ host: new.example.test, port: ${upstream.port}, allowed_ips: [127.0.0.1/32] }]
    binaries: [{ path: /usr/bin/curl }]
`));
    expect((await pending).status).toBe(200);
  });
});
