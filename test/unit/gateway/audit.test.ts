import { readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { mkdtemp } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { AuditLog, OcsfEventSchema, readAuditEvents, renderAuditEvent, toOcsf } from "../../../blueprint/gateway/audit.js";

const caller = { pid: 64, exe: "/usr/bin/curl", sha256: "c".repeat(64), ancestors: ["/usr/bin/bash"], unidentified: null };

describe("audit events", () => {
  it("maps a refused connection to OCSF Network Activity / Refuse and renders it in the house style", () => {
    const event = toOcsf({ sandbox: "s", decision: "deny", caller, host: "evil.com", port: 443, rule: null, reason: "no network policy allows evil.com:443" }, 0);
    expect(OcsfEventSchema.parse(event)).toMatchObject({
      class_uid: 4001, class_name: "Network Activity", activity_id: 5, activity_name: "Refuse", type_uid: 400105,
      severity_id: 3, action: "Denied", disposition: "Blocked", status: "Failure",
      dst_endpoint: { hostname: "evil.com", port: 443 }, actor: { process: { pid: 64, file: { path: "/usr/bin/curl" }, lineage: ["/usr/bin/bash"] } },
    });
    // The executable's content identity, as OCSF names it (algorithm 3: SHA-256).
    expect(event.actor.process.file).toEqual({ path: "/usr/bin/curl", hashes: [{ algorithm_id: 3, algorithm: "SHA-256", value: "c".repeat(64) }] });
    expect(renderAuditEvent(event)).toBe(
      "1970-01-01T00:00:00.000Z DENIED /usr/bin/curl(64) -> evil.com:443 [policy:- rule:-] [reason:no network policy allows evil.com:443]",
    );
  });

  it("maps an allowed request to HTTP Activity with method, path, status, bytes and duration", () => {
    const event = toOcsf({
      sandbox: "s", decision: "allow", caller, host: "api.github.com", port: 443, address: "140.82.1.1",
      rule: { policy: "github", endpoint: 1 }, reason: "GET /repos matches rules[0]",
      http: { method: "GET", target: "/repos?page=2", scheme: "https", status: 200 }, bytesUp: 10, bytesDown: 2000, durationMs: 12.4,
    }, 0);
    expect(event).toMatchObject({
      class_uid: 4002, activity_id: 3, activity_name: "Get", type_uid: 400203,
      http_request: { http_method: "GET", url: { path: "/repos", query_string: "page=2", scheme: "https" } },
      traffic: { bytes_out: 10, bytes_in: 2000 }, duration: 12, firewall_rule: { name: "github", uid: "github/endpoints/1" },
    });
    expect(renderAuditEvent(event)).toMatch(/ALLOWED \/usr\/bin\/curl\(64\) -> api\.github\.com:443 GET \/repos \[policy:github rule:github#1\] \[reason:GET \/repos matches rules\[0\]\] \[up:10 down:2000 12ms\]/);
  });

  it("marks audit-only allows and held requests distinctly", () => {
    const auditOnly = toOcsf({ sandbox: "s", decision: "allow", caller, host: "h", port: 1, rule: null, reason: "audit only: x", auditOnly: true });
    expect(renderAuditEvent(auditOnly)).toMatch(/ AUDIT /);
    const held = toOcsf({ sandbox: "s", decision: "held", caller, host: "h", port: 1, rule: null, reason: "held", approvalId: "abcd1234" });
    expect(held).toMatchObject({ status_id: 0, action_id: 0 });
    expect(renderAuditEvent(held)).toMatch(/ HELD .*\[approval:abcd1234\]/);
  });
});

describe("audit log file", () => {
  it("appends JSON lines and rotates by size, keeping N files", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-audit-"));
    const file = path.join(dir, "egress.jsonl");
    const log = new AuditLog(file, { maxBytes: 4096, keep: 2 });
    for (let i = 0; i < 100; i++) {
      log.write({ sandbox: "s", decision: "deny", caller, host: `h${i}.example.com`, port: 443, rule: null, reason: "x".repeat(50) });
      if (i % 10 === 9) await log.flush();
    }
    await log.flush();
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(["egress.jsonl", "egress.jsonl.1", "egress.jsonl.2"]);
    for (const f of files) {
      const text = await readFile(path.join(dir, f), "utf8");
      expect(text.length).toBeLessThanOrEqual(4096 + 1024);
      for (const line of text.trim().split("\n")) OcsfEventSchema.parse(JSON.parse(line));
    }
    const events = await readAuditEvents(file, 2);
    expect(events.at(-1)?.dst_endpoint.hostname).toBe("h99.example.com");
    // oldest files were dropped: not all 100 remain
    expect(events.length).toBeLessThan(100);
  });
});
