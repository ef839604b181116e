// How `/nemoclaw deny <id> always` reaches the host. OpenClaw's plugin approvals know three
// decisions (allow-once, allow-always, deny), so the handler (chat-command.ts) resolves with `deny`
// and names itself with this tag; OpenClaw hands that name to the host as `resolvedBy`, and the
// host's bridge (runtime/chat-approvals.ts) applies a tagged deny as the queue's deny-always.
// A tag can only make a deny stricter (never allows anything), and only a client holding the
// gateway's token and port can name itself. Here, below the runtime: both sides import it.

/** Ends the resolving client's name when the operator asked for deny-always. */
export const DENY_ALWAYS_TAG = " (deny always)";

/** Whether a resolved event's `resolvedBy` asks for deny-always. */
export function asksDenyAlways(resolvedBy: string | null | undefined): boolean {
  return typeof resolvedBy === "string" && resolvedBy.endsWith(DENY_ALWAYS_TAG);
}
