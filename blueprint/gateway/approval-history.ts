// Approvals decided earlier, kept on disk (`<stateDir>/logs/approvals.jsonl`): the queue
// (approvals.ts) holds only what is pending and lives in the daemon's memory, so without this
// a daemon restart or a reboot would forget every decision. An "always" decision also changed
// the policy file (authorize.ts); this is the record of who asked for what and how it ended.
import path from "node:path";
import { JsonlLog, readJsonl } from "../state/jsonl-log.js";
import { DecidedApprovalSchema, type Approval, type ApprovalQueue, type DecidedApproval } from "./approvals.js";

const KEEP = 2;

export function approvalHistoryFile(stateDir: string): string {
  return path.join(stateDir, "logs", "approvals.jsonl");
}

export class ApprovalHistory extends JsonlLog {
  constructor(file: string) {
    super(file, { maxBytes: 1024 * 1024, keep: KEEP });
  }

  /** Records every approval the queue settles, except those cancelled by a shutdown. Returns the unsubscribe function. */
  follow(queue: ApprovalQueue): () => void {
    return queue.subscribe((event) => {
      if (event.type === "decided" && event.outcome !== "cancelled") this.record(event.approval);
    });
  }

  record(approval: Approval): void {
    this.append({ ...approval, waiting: 0, decidedAt: new Date().toISOString() } satisfies DecidedApproval);
  }

  /** The latest `limit` decisions (of one sandbox, or all), oldest first. */
  async recent(sandbox: string | undefined, limit = 20): Promise<DecidedApproval[]> {
    await this.flush();
    const all = await readJsonl(this.file, DecidedApprovalSchema, KEEP);
    return all.filter((a) => sandbox === undefined || a.sandbox === sandbox).slice(-limit);
  }
}
