import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApprovalHistory } from "../../../blueprint/gateway/approval-history.js";
import { ApprovalQueue } from "../../../blueprint/gateway/approvals.js";

const caller = { pid: 42, exe: "/usr/bin/curl", sha256: "ab".repeat(32), ancestors: [], unidentified: null };

describe("approval history (decisions outlive the daemon)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-history-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("keeps decisions and timeouts, not shutdown cancellations; a new reader (a restarted daemon) sees them per sandbox", async () => {
    const file = path.join(dir, "logs", "approvals.jsonl");
    const queue = new ApprovalQueue({ timeoutMs: 60_000 });
    const history = new ApprovalHistory(file);
    history.follow(queue);
    const hold = (sandbox: string, host: string) => {
      const r = queue.hold({ sandbox, host, port: 443, caller });
      if (!r.held) throw new Error("not held");
      return r.approval.id;
    };
    queue.settle(hold("a", "one.example.test"), "allow-always");
    queue.settle(hold("b", "two.example.test"), "deny");
    queue.settle(hold("a", "three.example.test"), "timeout");
    hold("a", "four.example.test");
    queue.cancelAll();
    await history.close();

    const later = new ApprovalHistory(file);
    const a = await later.recent("a");
    expect(a.map((x) => [x.host, x.status])).toEqual([["one.example.test", "allow-always"], ["three.example.test", "timeout"]]);
    expect(a[0]).toMatchObject({ sandbox: "a", binary: "/usr/bin/curl", waiting: 0, decidedAt: expect.any(String) });
    expect((await later.recent(undefined)).map((x) => x.host)).toEqual(["one.example.test", "two.example.test", "three.example.test"]);
    expect((await later.recent(undefined, 1)).map((x) => x.host)).toEqual(["three.example.test"]);
  });
});
