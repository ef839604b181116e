// Text from inside a sandbox reaches the operator's terminal only as visible escapes: the audit
// renderer (`logs --egress`) and the approvals line (`approvals`, `approvals --watch`).
import { describe, expect, it } from "vitest";
import { renderAuditEvent, toOcsf } from "../../../blueprint/gateway/audit.js";
import { visible, visibleJson } from "../../../blueprint/state/terminal-text.js";
import { describeApproval } from "../../../src/cli/egress.js";

// Retitle the window (OSC 0), clear the screen (CSI 2J), a C1 CSI, a forged new line, a bidi override.
const EVIL = "/tmp/x\x1b]0;owned\x07\x1b[2J\u009b31m\nDENIED fake\u202egnp.exe";
const SHOWN = "/tmp/x\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\x0aDENIED fake\\u202egnp.exe";
// Anything a terminal acts on: C0, DEL, C1, bidi/format characters, line separators.
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;

describe("visible", () => {
  it("turns controls, escape sequences and bidi overrides into visible escapes", () => {
    expect(visible(EVIL)).toBe(SHOWN);
    expect(visible(EVIL)).not.toMatch(ACTIVE);
  });

  it("doubles backslashes so a file name cannot spell a fake escape", () => {
    expect(visible("/tmp/a\\x1b")).toBe("/tmp/a\\\\x1b");
    expect(visible("/usr/bin/curl")).toBe("/usr/bin/curl");
    expect(visible("/sandbox/naïve 文件")).toBe("/sandbox/naïve 文件");
  });

  it("visibleJson escapes what JSON.stringify leaves raw, and still parses to the same value", () => {
    const json = visibleJson(JSON.stringify({ binary: EVIL }));
    expect(json).not.toMatch(ACTIVE);
    expect(JSON.parse(json)).toEqual({ binary: EVIL });
    // Indented output keeps its lines: the only raw newlines are JSON's own.
    const indented = visibleJson(JSON.stringify({ binary: EVIL, n: 1 }, null, 2));
    expect(indented.split("\n")).toHaveLength(4);
    expect(JSON.parse(indented)).toEqual({ binary: EVIL, n: 1 });
  });

  it("visibleJson keeps pretty-printed JSON (as --json prints it) parseable and multi-line", () => {
    const value = { binary: EVIL, nested: { list: [1, "a\u202eb"] } };
    const json = visibleJson(JSON.stringify(value, null, 2));
    expect(json.split("\n").length).toBeGreaterThan(3);
    // Every control character left is a newline between tokens.
    expect(json.replace(/\n/g, "")).not.toMatch(ACTIVE);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe("what the operator sees", () => {
  it("logs --egress: an executable whose name carries escape sequences is rendered inert", () => {
    const line = renderAuditEvent(
      toOcsf({ sandbox: "s", decision: "held", caller: { pid: 7, exe: EVIL, sha256: null, ancestors: [], unidentified: null }, host: "h.example", port: 80, rule: null, reason: `Host header "\u202eevil" held`, http: { method: "GET", target: "/p\u202e", scheme: "http" } }, 0),
    );
    expect(line).not.toMatch(ACTIVE);
    expect(line).toContain(`HELD ${SHOWN}(7) -> h.example:80 GET /p\\u202e`);
    expect(line).toContain(`[reason:Host header "\\u202eevil" held]`);
  });

  it("approvals: binary and path from inside are rendered inert, with how many requests one decision releases", () => {
    const line = describeApproval({
      id: "abcd1234", sandbox: "s", host: "h.example", port: 80, binary: EVIL, caller: { pid: 7, exe: EVIL, sha256: null, ancestors: [], unidentified: null },
      request: { method: "GET", path: "/\u202eexe" }, createdAt: "2026-01-01T00:00:00.000Z", expiresAt: "2026-01-01T00:01:00.000Z", waiting: 3, status: "pending",
    });
    expect(line).not.toMatch(ACTIVE);
    expect(line).toBe(`  abcd1234  [s] ${SHOWN}(7) -> h.example:80  GET /\\u202eexe  (pending, 3 requests held, expires 2026-01-01T00:01:00.000Z)`);
  });
});
