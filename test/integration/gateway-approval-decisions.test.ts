// What an approval decision releases and how it is recorded: allow-always is seen as
// allow-always by watchers, the audit log and the control route; allow-once releases only the
// requests the operator was shown; a flood of unknown destinations is bounded per sandbox.
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import type { ApprovalEvent } from "../../blueprint/gateway/approvals.js";
import { readAuditEvents } from "../../blueprint/gateway/audit.js";
import { callRoute, controlRoutes } from "../../blueprint/gateway/egress-routes.js";
import { CURL, policy, proxyRequest, startGateway, startHttpUpstream } from "../helpers/gateway-harness.js";
import type { GatewayHarness, Upstream } from "../helpers/gateway-harness.js";

let upstream: Upstream;
let gw: GatewayHarness | undefined;
const hostMap: Record<string, string> = { "new.example.test": "127.0.0.1" };
for (let i = 0; i < 10; i++) hostMap[`flood${i}.example.test`] = "127.0.0.1";
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

async function waitFor(h: GatewayHarness, check: (list: ReturnType<GatewayHarness["gateway"]["approvals"]["list"]>) => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check(h.gateway.approvals.list(h.sandbox))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`approvals never reached the expected state: ${JSON.stringify(h.gateway.approvals.list(h.sandbox))}`);
}

describe("allow-always", () => {
  it("is what watchers, the control route's answer and the audit log record — not cancelled", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 10_000 });
    const h = gw;
    const events: ApprovalEvent[] = [];
    const stop = h.gateway.approvals.subscribe((e) => events.push(e));
    const pending = proxyRequest(h.socketPath, CURL, `http://new.example.test:${upstream.port}/always`);
    await waitFor(h, (l) => l.length === 1);
    const id = h.gateway.approvals.list()[0]!.id;
    const answer = (await callRoute(controlRoutes(h.gateway), "approvals.decide", { id, decision: "approve", always: true, allowedIps: ["127.0.0.1/32"] })) as { ok: boolean; approval: { status: string } };
    expect((await pending).status).toBe(200);
    stop();
    expect(answer).toMatchObject({ ok: true, approval: { id, status: "allow-always" } });
    const decided = events.filter((e) => e.type === "decided");
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ outcome: "allow-always", approval: { id, status: "allow-always" } });
    const log = h.gateway.auditLog(h.sandbox);
    await log.flush();
    const approved = (await readAuditEvents(log.file)).filter((e) => e.unmapped.approval_id === id && e.unmapped.decision === "approved");
    expect(approved.map((e) => e.message)).toEqual([`allowed always by approval ${id}`]);
  });
});

describe("allow-once", () => {
  it("releases only requests the operator was shown: another path from the same binary waits for its own decision", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 10_000 });
    const h = gw;
    const first = proxyRequest(h.socketPath, CURL, `http://new.example.test:${upstream.port}/shown`);
    const second = proxyRequest(h.socketPath, CURL, `http://new.example.test:${upstream.port}/not-shown`, { method: "POST", body: "x" });
    await waitFor(h, (l) => l.length === 2);
    const shown = h.gateway.approvals.list().find((a) => a.request?.path === "/shown");
    expect(shown).toMatchObject({ binary: "/usr/bin/curl", request: { method: "GET", path: "/shown" }, waiting: 1 });
    await h.gateway.decideApproval(shown!.id, "allow-once", { allowedIps: ["127.0.0.1/32"] });
    expect((await first).status).toBe(200);
    // The other request is still held, under its own approval.
    const other = h.gateway.approvals.list();
    expect(other).toMatchObject([{ request: { method: "POST", path: "/not-shown" }, status: "pending" }]);
    expect(upstream.seen.map((s) => s.url)).not.toContain("/not-shown");
    await h.gateway.decideApproval(other[0]!.id, "deny");
    expect((await second).status).toBe(403);
  });

  it("keeps another process of the same binary apart, and releases identical requests together (the count is shown)", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 10_000 });
    const h = gw;
    const url = `http://new.example.test:${upstream.port}/same`;
    const twins = [proxyRequest(h.socketPath, CURL, url), proxyRequest(h.socketPath, CURL, url)];
    const otherPid = proxyRequest(h.socketPath, { ...CURL, pid: 65 }, url);
    await waitFor(h, (l) => l.length === 2 && l.some((a) => a.waiting === 2));
    const list = h.gateway.approvals.list();
    const shared = list.find((a) => a.caller.pid === 64);
    expect(shared?.waiting).toBe(2);
    await h.gateway.decideApproval(shared!.id, "allow-once", { allowedIps: ["127.0.0.1/32"] });
    expect((await Promise.all(twins)).map((r) => r.status)).toEqual([200, 200]);
    const left = h.gateway.approvals.list();
    expect(left).toMatchObject([{ caller: { pid: 65 } }]);
    await h.gateway.decideApproval(left[0]!.id, "deny");
    expect((await otherPid).status).toBe(403);
  });
});

describe("a flood of unknown destinations", () => {
  it("opens at most maxPendingApprovalsPerSandbox approvals; the rest are refused at once saying why", async () => {
    gw = await startGateway(base(), { hostMap, approvalTimeoutMs: 10_000, maxPendingApprovalsPerSandbox: 3 });
    const h = gw;
    const all = Array.from({ length: 10 }, (_, i) => proxyRequest(h.socketPath, CURL, `http://flood${i}.example.test:${upstream.port}/`));
    await waitFor(h, (l) => l.length === 3);
    // Refusals come back while three are still held (no timer: wait until seven answered).
    const answered: Array<Awaited<(typeof all)[number]>> = [];
    for (const p of all) void p.then((r) => answered.push(r));
    for (let i = 0; i < 3000 && answered.length < 7; i++) await new Promise((r) => setTimeout(r, 10));
    const refused = [...answered];
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({ error: "too many pending approvals", reason: expect.stringMatching(/3 approvals are already pending for this sandbox/) });
    }
    expect(h.gateway.approvals.list()).toHaveLength(3);
    // Deciding them makes room again.
    for (const a of h.gateway.approvals.list()) await h.gateway.decideApproval(a.id, "deny");
    const next = proxyRequest(h.socketPath, CURL, `http://flood9.example.test:${upstream.port}/again`);
    await waitFor(h, (l) => l.length === 1);
    await h.gateway.decideApproval(h.gateway.approvals.list()[0]!.id, "deny");
    expect((await next).json()).toMatchObject({ error: "denied by operator" });
    await Promise.all(all);
  });
});
