// Egress approvals in the operator's chat. When the egress gateway holds a request from a
// gateway sandbox, the host daemon is the approval client: it connects to that sandbox's OpenClaw
// gateway through the relay socket (0600, the host user's; not reachable from the tools' domain)
// with the gateway's token (host file + the gateway's own config, unreadable to tools), as an
// operator client with scope operator.approvals, and asks OpenClaw to show a plugin approval
// (`plugin.approval.request`, two-phase). OpenClaw routes it like its own approvals
// (`approvals.plugin`: session / targets; the TUI and other approval clients), and the operator
// answers there (`/approve <id> allow-once`, buttons, `openclaw approvals resolve`). The decision
// comes back on this connection — `plugin.approval.resolved` {id, decision, resolvedBy} or the
// `waitDecision` answer — and is applied to the runtime's own held-request ids only.
//
// One approval: the first of chat, host CLI and timeout wins. When the host CLI or the timeout
// settles an approval first, the chat prompt is resolved too (deny for a timeout), so every
// surface shows it as decided. Held requests that read the same in the prompt (program, host:port,
// method and path) share one prompt; prompts per sandbox are bounded (open at once, new
// destinations per minute); what is not prompted stays held for the host CLI (`openclaw nemoclaw <name>
// approvals`) and the next prompt says how many wait there. No route (no chat, no approval client) prompts nothing: the request stays held for
// the host CLI until the timeout denies it. Nothing here ever allows without a decision.

import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { z } from "zod";
import { JsonlLog } from "../state/jsonl-log.js";
import { asksDenyAlways } from "../supervisor/tool-backend/chat-decision-tag.js";
import { sandboxDir } from "../state/paths.js";
import type { Approval, ApprovalDecision, ApprovalEvent, ApprovalOutcome } from "../gateway/approvals.js";
import { gatewaySocketFile, gatewayTokenFile } from "../sandbox/gateway-inside.js";
import { OpenclawGatewayClient } from "./openclaw-gateway-client.js";

/**
 * The three answers a chat prompt offers (OpenClaw's plugin approvals know no more). A deny
 * resolved by `/nemoclaw deny <id> always` carries its tag in the resolver's name and is applied as
 * deny-always (supervisor/tool-backend/chat-decision-tag.ts).
 */
const CHAT_DECISIONS = ["allow-once", "allow-always", "deny"] as const;
const PROMPT_GRACE_MS = 5_000;
/**
 * Where a prompt goes when no conversation asked for it: the operator's main session. With the
 * sandbox config's `approvals.plugin {enabled, mode: "session"}` (seeded, gateway-inside.ts)
 * OpenClaw delivers it to that session's last channel; `mode: "targets" | "both"` adds explicit
 * chats. Approval clients (TUI, Control UI) see it either way.
 */
export const PROMPT_SESSION = "main";
/** How long the decision record waits for OpenClaw's resolved event naming who decided (it can lag the waitDecision answer on a loaded machine). */
const IDENTITY_WAIT_MS = 10_000;
/** A deny waits this long for that event before it is applied: whether it is deny-always is in the resolver's name. */
const DENY_IDENTITY_WAIT_MS = 2_000;
type ChatDecision = (typeof CHAT_DECISIONS)[number];
const ChatDecisionSchema = z.enum(CHAT_DECISIONS);

const RequestAnswer = z.object({ id: z.string(), status: z.string().optional(), decision: ChatDecisionSchema.nullable().optional(), deliveryRoute: z.string().optional() });
const WaitAnswer = z.object({ id: z.string(), decision: ChatDecisionSchema.nullable(), terminalReason: z.string().optional() });
const ResolvedEvent = z.object({ id: z.string(), decision: ChatDecisionSchema, resolvedBy: z.string().nullable().optional() });

/** One line of `sandboxes/<name>/egress/logs/chat-approvals.jsonl`: what the chat decided and who. */
export const ChatDecisionRecordSchema = z.object({
  time: z.string(),
  sandbox: z.string(),
  /** The runtime's approval ids this prompt settled. */
  approvals: z.array(z.string()),
  openclawId: z.string(),
  decision: z.enum([...CHAT_DECISIONS, "deny-always"]),
  /** The operator identity OpenClaw reported (the resolving client's name), or null when it named none. */
  decidedBy: z.string().nullable(),
  destination: z.string(),
});
export type ChatDecisionRecord = z.infer<typeof ChatDecisionRecordSchema>;

class ChatDecisionLog extends JsonlLog {
  write(record: ChatDecisionRecord): void {
    this.append(record);
  }
}

export interface ChatApprovalsOptions {
  stateDir: string;
  gateway: {
    approvals: { subscribe(listener: (event: ApprovalEvent) => void): () => void; get(id: string): Approval | undefined; list(sandbox?: string): Approval[] };
    decideApproval(id: string, decision: ApprovalDecision): Promise<Approval>;
  };
  log(message: string): void;
  /** Chat prompts open at once per sandbox. Default 8. */
  maxOpenPrompts?: number;
  /** New destinations (program, host, port) prompted per sandbox per minute (another prompt for one does not count). Default 12. */
  promptsPerMinute?: number;
}

interface Prompt {
  key: string;
  sandbox: string;
  approvals: Set<string>;
  openclawId: string | undefined;
  /** Set once a decision (from any side) closed it. */
  done: boolean;
  /** The decision made elsewhere (host CLI, timeout) before OpenClaw had answered the request. */
  closedWith: ChatDecision | undefined;
  /** Who OpenClaw says decided (null: it named nobody), once its resolved event arrived. */
  decidedBy?: string | null;
  onIdentity?: (decidedBy: string | null) => void;
  destination: string;
}

interface Link {
  client: Promise<OpenclawGatewayClient>;
  prompts: Map<string, Prompt>;
  /** Destinations (program, host, port) prompted for, with when they were last prompted: the per-minute limit counts new destinations, not repeats or other paths. */
  opened: Map<string, number>;
  /** Approvals held but not prompted (flood, limits): the next prompt mentions them. */
  unprompted: Set<string>;
}

function short(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function chatDecisionFor(outcome: ApprovalOutcome): ChatDecision {
  return outcome === "allow-once" || outcome === "allow-always" ? outcome : "deny";
}

export class ChatApprovals {
  private readonly links = new Map<string, Link>();
  private readonly byOpenclawId = new Map<string, Prompt>();
  private readonly decisionLogs = new Map<string, ChatDecisionLog>();
  private readonly maxOpen: number;
  private readonly perMinute: number;
  private unsubscribe: (() => void) | undefined;

  private readonly options: ChatApprovalsOptions;

  constructor(options: ChatApprovalsOptions) {
    this.options = options;
    this.maxOpen = options.maxOpenPrompts ?? 8;
    this.perMinute = options.promptsPerMinute ?? 12;
  }

  start(): void {
    this.unsubscribe = this.options.gateway.approvals.subscribe((event) => {
      if (event.type === "pending") void this.onPending(event.approval);
      else this.onDecided(event.approval, event.outcome);
    });
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    for (const [name, link] of this.links) {
      this.links.delete(name);
      await link.client.then((c) => c.close(), () => undefined);
    }
    for (const log of this.decisionLogs.values()) await log.close();
  }

  /** The token of a gateway sandbox, or undefined for a sandbox without a gateway. */
  private async token(sandbox: string): Promise<string | undefined> {
    const text = await readFile(gatewayTokenFile(this.options.stateDir, sandbox), "utf8").catch(() => undefined);
    return text?.trim() || undefined;
  }

  private link(sandbox: string, token: string): Link {
    let link = this.links.get(sandbox);
    if (link !== undefined) return link;
    const socketPath = gatewaySocketFile(this.options.stateDir, sandbox);
    const created: Link = { prompts: new Map(), opened: new Map(), unprompted: new Set(), client: Promise.resolve(undefined as never) };
    created.client = OpenclawGatewayClient.connect({
      connect: () => net.connect(socketPath),
      token,
      displayName: "nemoclaw egress approvals",
      onEvent: (event, payload) => this.onGatewayEvent(sandbox, event, payload),
      onClose: (reason) => {
        if (this.links.get(sandbox) === created) this.links.delete(sandbox);
        this.options.log(`chat approvals: ${sandbox}: ${reason}`);
      },
    });
    created.client.catch((e: Error) => {
      if (this.links.get(sandbox) === created) this.links.delete(sandbox);
      this.options.log(`chat approvals: ${sandbox}: cannot reach the gateway inside (${e.message}); approvals stay on the host CLI`);
    });
    link = created;
    this.links.set(sandbox, link);
    return link;
  }

  private async onPending(approval: Approval): Promise<void> {
    const token = await this.token(approval.sandbox);
    if (token === undefined) return;
    if (this.options.gateway.approvals.get(approval.id) === undefined) return;
    const link = this.link(approval.sandbox, token);
    // One prompt per request as it is shown (program, destination, method and path): an answer
    // releases only requests the operator was shown.
    const destination = JSON.stringify([approval.host, approval.port, approval.binary]);
    const key = JSON.stringify([approval.host, approval.port, approval.binary, approval.request?.method ?? null, approval.request?.path ?? null]);
    const existing = link.prompts.get(key);
    if (existing !== undefined && !existing.done) {
      existing.approvals.add(approval.id);
      return;
    }
    const now = Date.now();
    for (const [k, t] of link.opened) if (now - t >= 60_000) link.opened.delete(k);
    const open = [...link.prompts.values()].filter((p) => !p.done).length;
    if (open >= this.maxOpen || (!link.opened.has(destination) && link.opened.size >= this.perMinute)) {
      link.unprompted.add(approval.id);
      this.options.log(`chat approvals: ${approval.sandbox}: approval ${approval.id} not prompted (${open} open, ${link.opened.size} destinations in the last minute); it waits on the host CLI`);
      return;
    }
    link.opened.set(destination, now);
    const shown = `${approval.host}:${approval.port}`;
    const prompt: Prompt = { key, sandbox: approval.sandbox, approvals: new Set([approval.id]), openclawId: undefined, done: false, closedWith: undefined, destination: shown };
    link.prompts.set(key, prompt);
    try {
      const client = await link.client;
      const answer = RequestAnswer.parse(await client.request("plugin.approval.request", this.requestParams(approval, link), 15_000));
      prompt.openclawId = answer.id;
      this.byOpenclawId.set(answer.id, prompt);
      if (prompt.done) {
        // Decided elsewhere while the prompt was on its way: close it in the chat as well.
        this.resolveInChat(prompt, prompt.closedWith ?? "deny");
        return;
      }
      if (answer.status !== "accepted") {
        this.options.log(`chat approvals: ${approval.sandbox}: no approver reachable for ${shown} (${answer.deliveryRoute ?? "no route"}); approval ${approval.id} waits on the host CLI`);
        this.forget(prompt);
        return;
      }
      const wait = WaitAnswer.parse(await client.request("plugin.approval.waitDecision", { id: answer.id }));
      if (wait.decision !== null) await this.apply(prompt, wait.decision);
      else this.forget(prompt);
    } catch (e) {
      this.options.log(`chat approvals: ${approval.sandbox}: prompt for ${shown} failed (${(e as Error).message}); approval ${approval.id} waits on the host CLI`);
      this.forget(prompt);
    }
  }

  private requestParams(approval: Approval, link: Link): Record<string, unknown> {
    const program = approval.binary === null ? "an unidentified program" : path.basename(approval.binary);
    const what = approval.request === null ? "a TLS tunnel (CONNECT)" : `${approval.request.method} ${approval.request.path}`;
    link.unprompted.forEach((id) => this.options.gateway.approvals.get(id) === undefined && link.unprompted.delete(id));
    const more = link.unprompted.size > 0 ? ` ${link.unprompted.size} more requests wait: openclaw nemoclaw ${approval.sandbox} approvals.` : "";
    const remaining = Date.parse(approval.expiresAt) - Date.now();
    return {
      pluginId: "nemoclaw",
      sessionKey: PROMPT_SESSION,
      title: short(`🔒 ${program} in sandbox ${approval.sandbox} wants ${approval.host}:${approval.port}`, 80),
      description: short(`${what}. Not in the sandbox's policy; held until you decide (allow once, always allow, or deny).${more}`, 512),
      detail: JSON.stringify({ approval: approval.id, sandbox: approval.sandbox, binary: approval.binary, ancestors: approval.caller.ancestors, host: approval.host, port: approval.port, request: approval.request }),
      severity: "warning",
      allowedDecisions: [...CHAT_DECISIONS],
      // OpenClaw's own expiry comes a little after the runtime's timeout, which settles the
      // approval as a timeout and then closes the prompt: an expiry must never read as a decision.
      timeoutMs: Math.min(600_000, Math.max(1_000, remaining + PROMPT_GRACE_MS)),
      twoPhase: true,
    };
  }

  /** An event from `sandbox`'s gateway: it can settle only a prompt that gateway was asked. */
  private onGatewayEvent(sandbox: string, event: string, payload: unknown): void {
    if (event !== "plugin.approval.resolved") return;
    const resolved = ResolvedEvent.safeParse(payload);
    if (!resolved.success) return;
    const prompt = this.byOpenclawId.get(resolved.data.id);
    if (prompt === undefined || prompt.sandbox !== sandbox) return;
    if (prompt.decidedBy === undefined) {
      prompt.decidedBy = resolved.data.resolvedBy ?? null;
      prompt.onIdentity?.(prompt.decidedBy);
    }
    void this.apply(prompt, resolved.data.decision);
  }

  /** Who OpenClaw says resolved the prompt: at once if its resolved event came, else within `ms` (null after). */
  private identity(prompt: Prompt, ms: number): Promise<string | null> {
    if (prompt.decidedBy !== undefined) return Promise.resolve(prompt.decidedBy);
    return new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      const before = prompt.onIdentity;
      prompt.onIdentity = (who) => {
        clearTimeout(timer);
        before?.(who);
        resolve(who);
      };
    });
  }

  /** The chat's decision, applied to every held approval of the prompt that is still pending. */
  private async apply(prompt: Prompt, chatDecision: ChatDecision): Promise<void> {
    if (prompt.done) return;
    prompt.done = true;
    // When the waitDecision answer came first, the resolved event naming who decided follows on
    // the same connection; a deny waits for it (deny-always is in that name), an allow does not.
    const denier = chatDecision === "deny" ? await this.identity(prompt, DENY_IDENTITY_WAIT_MS) : undefined;
    const decision: ApprovalDecision = chatDecision === "deny" && asksDenyAlways(denier) ? "deny-always" : chatDecision;
    const settled: string[] = [];
    for (const id of prompt.approvals) {
      try {
        await this.options.gateway.decideApproval(id, decision);
        settled.push(id);
      } catch (e) {
        // Already decided on the host CLI or timed out: the first decision stands.
        this.options.log(`chat approvals: ${prompt.sandbox}: ${decision} for ${id} not applied (${(e as Error).message})`);
      }
    }
    this.forget(prompt);
    const by = denier !== undefined && denier !== null ? denier : await this.identity(prompt, IDENTITY_WAIT_MS);
    this.decisionLog(prompt.sandbox).write({
      time: new Date().toISOString(),
      sandbox: prompt.sandbox,
      approvals: settled,
      openclawId: prompt.openclawId ?? "",
      decision,
      decidedBy: by,
      destination: prompt.destination,
    });
    this.options.log(`chat approvals: ${prompt.sandbox}: ${decision} ${prompt.destination} (approvals ${settled.join(", ") || "none"}) by ${by ?? "an unnamed operator"}`);
  }

  /** An approval settled (host CLI, timeout, policy change, or the chat itself). */
  private onDecided(approval: Approval, outcome: ApprovalOutcome): void {
    const link = this.links.get(approval.sandbox);
    if (link === undefined) return;
    link.unprompted.delete(approval.id);
    for (const prompt of link.prompts.values()) {
      if (!prompt.approvals.has(approval.id) || prompt.done) continue;
      const pendingLeft = [...prompt.approvals].some((id) => id !== approval.id && this.options.gateway.approvals.get(id) !== undefined);
      if (pendingLeft) continue;
      prompt.done = true;
      prompt.closedWith = chatDecisionFor(outcome);
      if (prompt.openclawId !== undefined) this.resolveInChat(prompt, prompt.closedWith);
    }
  }

  /** Closes the chat prompt with the decision made elsewhere, so the chat shows it as decided. */
  private resolveInChat(prompt: Prompt, decision: ChatDecision): void {
    const id = prompt.openclawId;
    const link = this.links.get(prompt.sandbox);
    this.forget(prompt);
    if (id === undefined || link === undefined) return;
    link.client
      .then((c) => c.request("plugin.approval.resolve", { id, decision }, 15_000))
      .catch((e: Error) => this.options.log(`chat approvals: ${prompt.sandbox}: closing prompt ${id} failed (${e.message})`));
  }

  private forget(prompt: Prompt): void {
    const link = this.links.get(prompt.sandbox);
    if (link?.prompts.get(prompt.key) === prompt) link.prompts.delete(prompt.key);
    if (prompt.openclawId !== undefined) setTimeout(() => this.byOpenclawId.delete(prompt.openclawId as string), 5_000).unref();
  }

  private decisionLog(sandbox: string): ChatDecisionLog {
    let log = this.decisionLogs.get(sandbox);
    if (log === undefined) {
      log = new ChatDecisionLog(chatDecisionLogFile(this.options.stateDir, sandbox), { maxBytes: 1024 * 1024, keep: 2 });
      log.onError = (e) => this.options.log(`chat approvals: ${sandbox}: decision log: ${e.message}`);
      this.decisionLogs.set(sandbox, log);
    }
    return log;
  }
}

/** Where the chat's decisions (and who made them) are recorded. */
export function chatDecisionLogFile(stateDir: string, sandbox: string): string {
  return path.join(sandboxDir(stateDir, sandbox), "egress", "logs", "chat-approvals.jsonl");
}
