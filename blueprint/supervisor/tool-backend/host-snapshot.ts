// The host's snapshot of this sandbox (route, policy, pending approvals, last denials), pushed by
// the host daemon over its operator connection to this gateway (runtime/chat-status-feed.ts) as
// the gateway method `nemoclaw.snapshot`, scope operator.approvals. It is kept in this process's
// memory only: nothing the tools run can read it (no file, and the gateway's memory is out of
// their reach), and only a client holding the gateway's token on its port can replace it, which
// the tools' domain cannot reach. Node built-ins only (staged with the supervisor).
import type { ChatSnapshot } from "./chat-snapshot-message.js";

// One store per process: OpenClaw may evaluate a plugin module more than once (registry
// instances), and the method handler and the chat command must see the same snapshot.
const STORE = Symbol.for("nemoclaw.host-snapshot");
const MAX_TEXT = 16_384;
type Store = { [STORE]?: ChatSnapshot };

function isText(v: unknown): v is string {
  return typeof v === "string" && v.length <= MAX_TEXT;
}

export function parseSnapshot(p: unknown): ChatSnapshot | undefined {
  if (typeof p !== "object" || p === null) return undefined;
  const s = p as Record<string, unknown>;
  if (s.version !== 1 || !isText(s.sandbox) || !isText(s.at) || !isText(s.policy) || !isText(s.logs)) return undefined;
  if (!Array.isArray(s.status) || s.status.length > 64 || !s.status.every(isText)) return undefined;
  return { version: 1, sandbox: s.sandbox, at: s.at, status: [...s.status], policy: s.policy, logs: s.logs };
}

export function latestSnapshot(): ChatSnapshot | undefined {
  return (globalThis as Store)[STORE];
}

interface MethodOptions {
  params: unknown;
  respond: (ok: boolean, payload?: unknown, error?: { code: string; message: string }) => void;
}

/** The gateway method's handler. */
export function snapshotMethod({ params, respond }: MethodOptions): void {
  const snapshot = parseSnapshot(params);
  if (snapshot === undefined) {
    respond(false, undefined, { code: "INVALID_REQUEST", message: "not a nemoclaw snapshot (version 1: sandbox, at, status[], policy, logs)" });
    return;
  }
  (globalThis as Store)[STORE] = snapshot;
  respond(true, { ok: true });
}
