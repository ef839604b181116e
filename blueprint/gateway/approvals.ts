// The approval queue: a request to a destination no policy names is held while a person
// decides. Requests share one approval only when they are what the operator is shown: the
// same caller (pid, executable, ancestors — the whole caller record), host, port and, for
// plain HTTP, method and path (the query string is not shown and may differ). A decision (or
// the timeout) settles all of them at once; `waiting` says how many that is. Each sandbox has
// at most `maxPendingPerSandbox` approvals open: a flood of new destinations is refused past
// that instead of growing the queue. Applying a decision to the policy is authorize.ts's job;
// this file only holds, lists, publishes and settles.

import { EventEmitter, on } from "node:events";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { CallerSchema } from "./caller.js";
import type { Caller } from "./caller.js";

export const APPROVAL_DECISIONS = ["allow-once", "allow-always", "deny", "deny-always"] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];
/** How a held request ends. */
export type ApprovalOutcome = ApprovalDecision | "timeout" | "cancelled";

export const ApprovalSchema = z.object({
  id: z.string(),
  sandbox: z.string(),
  host: z.string(),
  port: z.number().int(),
  /** The caller's executable: what an "always" rule would name in `binaries`. */
  binary: z.string().nullable(),
  caller: CallerSchema,
  /** Method and path (without query) shared by the held requests, when they are plain HTTP. */
  request: z.object({ method: z.string(), path: z.string() }).nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** Requests currently held on this approval. */
  waiting: z.number().int(),
  status: z.enum(["pending", ...APPROVAL_DECISIONS, "timeout", "cancelled"]),
});
export type Approval = z.infer<typeof ApprovalSchema>;
/** A settled approval as the history keeps it (approval-history.ts). */
export const DecidedApprovalSchema = ApprovalSchema.extend({ decidedAt: z.string() });
export type DecidedApproval = z.infer<typeof DecidedApprovalSchema>;

export type ApprovalEvent = { type: "pending"; approval: Approval } | { type: "decided"; approval: Approval; outcome: ApprovalOutcome };

export interface HoldRequest {
  sandbox: string;
  host: string;
  port: number;
  caller: Caller;
  request?: { method: string; path: string };
}

interface Entry {
  approval: Approval;
  key: string;
  waiters: Array<(outcome: ApprovalOutcome) => void>;
  timer: NodeJS.Timeout;
}

export interface ApprovalQueueOptions {
  /** How long a request is held before it is refused. Default 60 000 ms. */
  timeoutMs?: number;
  /** Open approvals per sandbox; a request that would open another is refused. Default 32. */
  maxPendingPerSandbox?: number;
}

/** What `hold` returns: the shared approval and its outcome, or why nothing was held. */
export type HoldResult = { held: true; approval: Approval; outcome: Promise<ApprovalOutcome> } | { held: false; pending: number };

export class ApprovalQueue {
  private readonly timeoutMs: number;
  readonly maxPendingPerSandbox: number;
  private readonly byId = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();
  private readonly events = new EventEmitter();

  constructor(options: ApprovalQueueOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxPendingPerSandbox = options.maxPendingPerSandbox ?? 32;
    this.events.setMaxListeners(0);
  }

  /**
   * Holds a request until its approval is decided. `onCreated` runs when this call opened a
   * new approval (for the audit log); joiners share the existing one. When the sandbox already
   * has its maximum of open approvals and none matches, nothing is held.
   */
  hold(request: HoldRequest, onCreated?: (approval: Approval) => void): HoldResult {
    const binary = request.caller.exe;
    const shown = request.request === undefined ? null : [request.request.method, request.request.path];
    const key = JSON.stringify([request.sandbox, request.host, request.port, request.caller, shown]);
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      const pending = this.list(request.sandbox).length;
      if (pending >= this.maxPendingPerSandbox) return { held: false, pending };
      const now = Date.now();
      const approval: Approval = {
        id: randomBytes(4).toString("hex"),
        sandbox: request.sandbox,
        host: request.host,
        port: request.port,
        binary,
        caller: request.caller,
        request: request.request ?? null,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + this.timeoutMs).toISOString(),
        waiting: 0,
        status: "pending",
      };
      const created: Entry = { approval, key, waiters: [], timer: setTimeout(() => this.settle(approval.id, "timeout"), this.timeoutMs) };
      created.timer.unref();
      entry = created;
      this.byId.set(approval.id, entry);
      this.byKey.set(key, entry);
      onCreated?.(approval);
      this.events.emit("event", { type: "pending", approval: { ...approval } } satisfies ApprovalEvent);
    }
    const current = entry;
    current.approval.waiting += 1;
    const outcome = new Promise<ApprovalOutcome>((resolve) => current.waiters.push(resolve));
    return { held: true, approval: current.approval, outcome };
  }

  get(id: string): Approval | undefined {
    const entry = this.byId.get(id);
    return entry === undefined ? undefined : { ...entry.approval };
  }

  /** Pending approvals, oldest first. */
  list(sandbox?: string): Approval[] {
    return [...this.byId.values()].map((e) => ({ ...e.approval })).filter((a) => sandbox === undefined || a.sandbox === sandbox);
  }

  /** Releases every request held on `id` with `outcome`. Returns the settled approval, or undefined if none was pending. */
  settle(id: string, outcome: ApprovalOutcome): Approval | undefined {
    const entry = this.byId.get(id);
    if (entry === undefined) return undefined;
    clearTimeout(entry.timer);
    this.byId.delete(id);
    this.byKey.delete(entry.key);
    entry.approval.status = outcome;
    for (const wake of entry.waiters) wake(outcome);
    const approval = { ...entry.approval };
    this.events.emit("event", { type: "decided", approval, outcome } satisfies ApprovalEvent);
    return approval;
  }

  /** Settles every pending approval of a sandbox (or all) as cancelled, e.g. on shutdown. */
  cancelAll(sandbox?: string): void {
    for (const approval of this.list(sandbox)) this.settle(approval.id, "cancelled");
  }

  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    this.events.on("event", listener);
    return () => this.events.off("event", listener);
  }

  /** Pending approvals as `pending` events first, then every event as it happens, until `signal` aborts. */
  async *watch(signal?: AbortSignal): AsyncGenerator<ApprovalEvent> {
    const live = on(this.events, "event", signal === undefined ? {} : { signal });
    for (const approval of this.list()) yield { type: "pending", approval };
    try {
      for await (const [event] of live) yield event as ApprovalEvent;
    } catch (e) {
      if ((e as Error).name !== "AbortError") throw e;
    }
  }
}
