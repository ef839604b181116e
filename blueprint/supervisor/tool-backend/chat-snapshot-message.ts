// The one declaration of what the host's chat status feed (runtime/chat-status-feed.ts, built by
// runtime/chat-snapshot.ts) sends this plugin, and the gateway method it calls: host-snapshot.ts
// checks and keeps it, chat-command.ts shows it. Here, below the runtime, because the runtime may
// import the supervisor's folder and never the other way (the plugin is staged alone). Types and
// one constant only.

/** The gateway method the host calls; its params are a ChatSnapshot. */
export const SNAPSHOT_METHOD = "nemoclaw.snapshot";

/** The host's snapshot of a sandbox, each text rendered on the host in the house style. */
export interface ChatSnapshot {
  version: 1;
  sandbox: string;
  /** When it was made (ISO). */
  at: string;
  /** `Key: value` lines for `/nemoclaw status`, the in-sandbox layers excluded. */
  status: string[];
  /** `/nemoclaw policy`. */
  policy: string;
  /** `/nemoclaw logs`. */
  logs: string;
}
