// What `/nemoclaw status|policy|logs` show, made on the host from the gateway's live state, and
// what the in-sandbox plugin accepts as a snapshot. The real egress gateway and audit log (a temp
// state dir), no mocks; the in-sandbox rendering is covered end to end (test/e2e/chat-approvals).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEgressGateway, type EgressGateway } from "../../../blueprint/gateway/egress-gateway.js";
import { buildSnapshot, recentAuditEvents, renderPolicy } from "../../../blueprint/runtime/chat-snapshot.js";
import type { Route } from "../../../blueprint/inference/route.js";
import { parseSnapshot } from "../../../blueprint/supervisor/tool-backend/host-snapshot.js";
import type { Policy } from "../../../blueprint/policy/schema.js";

const POLICY: Policy = {
  version: 1,
  network_policies: {
    github: { endpoints: [{ host: "api.github.com", port: 443, access: "read-only" }], binaries: [{ path: "/usr/bin/git" }] },
    npm: { endpoints: [{ host: "registry.npmjs.org", port: 443 }] },
  },
};
const caller = { pid: 42, exe: "/usr/bin/curl\u001b[31m", sha256: null, ancestors: [], unidentified: null } as never;

let dir: string;
let gateway: EgressGateway;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-chat-snapshot-"));
  gateway = createEgressGateway({});
  await gateway.addSandbox("box", { policy: POLICY, stateDir: dir, callerSecretFile: path.join(dir, "caller.secret") });
});

afterAll(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the host's chat snapshot", () => {
  it("status names the route, the policy revision and presets, pending approvals and the denials", async () => {
    const log = gateway.auditLog("box");
    log.write({ sandbox: "box", decision: "deny", caller, host: "evil.test", port: 443, rule: null, reason: "evil.test:443 was denied by the operator", http: { method: "POST", target: "/x?q=1", scheme: "https" } });
    log.write({ sandbox: "box", decision: "allow", caller, host: "api.github.com", port: 443, rule: { policy: "github", endpoint: 0 }, reason: "allowed" });
    log.write({ sandbox: "box", decision: "deny", caller, host: "api.github.com", port: 443, rule: { policy: "github", endpoint: 0 }, reason: "POST not allowed by read-only", http: { method: "POST", target: "/repos", scheme: "https" } });
    const route = { version: 1, provider: "openai", model: "gpt-x", options: {}, updatedAt: "" } as Route;
    const s = await buildSnapshot("box", { gateway, route, presets: ["npm"], revision: "abc123" }, new Date("2026-12-02T08:00:00Z"));
    expect(s.at).toBe("2026-12-02T08:00:00.000Z");
    expect(s.status).toContain("  Inference: openai / gpt-x");
    expect(s.status.join("\n")).toMatch(/Egress: .*2 network policies, revision abc123, presets npm/);
    expect(s.status).toContain("  Pending approvals: 0");
    expect(s.status.join("\n")).toMatch(/Recent denials: 2, last api\.github\.com:443/);

    // Newest first; a rule that refused names the policy and says to change it, an unknown host says how to ask.
    const logs = s.logs.split("\n");
    expect(logs[0]).toBe("Last egress denials in box");
    const first = logs.findIndex((l) => l.includes("api.github.com:443 POST /repos"));
    const second = logs.findIndex((l) => l.includes("evil.test:443 POST /x"));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(logs[first + 1]).toBe("      Rule: github#0");
    expect(logs[first + 3]).toContain("Next: ask the operator to change the policy (openclaw nemoclaw box policy get");
    expect(logs[second + 1]).toBe("      Rule: no policy names it");
    expect(logs[second + 3]).toContain("Next: ask the operator to approve it");
    // Paths from inside are made terminal-safe.
    expect(s.logs).not.toContain("\u001b");
  });

  it("reads only the audit log's end: a partial first line is dropped, not misread", async () => {
    const log = gateway.auditLog("box");
    await log.flush();
    const all = await recentAuditEvents(log.file, 10_000_000);
    expect(all).toHaveLength(3);
    const lastLine = (await readFile(log.file, "utf8")).trimEnd().split("\n").at(-1) ?? "";
    const tail = await recentAuditEvents(log.file, Buffer.byteLength(lastLine) + 10);
    expect(tail).toHaveLength(1);
    expect(tail[0]?.dst_endpoint.hostname).toBe("api.github.com");
    expect(await recentAuditEvents(path.join(dir, "missing.jsonl"))).toEqual([]);
  });

  it("without a route or denials it says so", async () => {
    const other = createEgressGateway({});
    await other.addSandbox("empty", { policy: { version: 1 }, stateDir: await mkdtemp(path.join(dir, "e-")), callerSecretFile: path.join(dir, "caller.secret") });
    try {
      const s = await buildSnapshot("empty", { gateway: other, route: undefined, presets: [], revision: null });
      expect(s.status).toContain("  Inference: no route (openclaw nemoclaw inference set)");
      expect(s.logs).toContain("  None recorded.");
      expect(s.policy).toContain("(no network policies: every destination is held for approval)");
    } finally {
      await other.close();
    }
  });

  it("policy: one line per network policy with destinations and programs", () => {
    const text = renderPolicy("box", POLICY, "abc123", []);
    expect(text.split("\n")).toEqual([
      "Egress policy of box",
      "",
      "  Revision: abc123",
      "  Presets: none",
      "  Mode: enforce; anything else is held for your approval",
      "",
      "  github: api.github.com:443 (read-only) — git",
      "  npm: registry.npmjs.org:443 — any program",
      "",
      "Full policy on the host: openclaw nemoclaw box policy get",
    ]);
  });
});

describe("the in-sandbox plugin's snapshot check", () => {
  const good = { version: 1, sandbox: "box", at: "2026-12-02T08:00:00.000Z", status: ["  Sandbox: box"], policy: "p", logs: "l" };
  it("accepts the host's shape and copies it", () => {
    expect(parseSnapshot(good)).toEqual(good);
  });
  it("refuses anything else", () => {
    for (const bad of [null, "x", { ...good, version: 2 }, { ...good, status: "x" }, { ...good, status: [1] }, { ...good, policy: "x".repeat(20_000) }, { ...good, logs: undefined }]) expect(parseSnapshot(bad)).toBeUndefined();
  });
});
