// `/nemoclaw` in the sandboxed gateway's chats (authorized senders only: requireAuth). Decisions go
// through OpenClaw's own approval resolution: the handler, running in the gateway process, opens
// an operator connection to its own gateway on loopback with the token from the gateway's config
// (both out of the tools' domain's reach) and calls plugin.approval.list / .resolve, naming the
// sender OpenClaw authenticated in its client name, which OpenClaw records as `resolvedBy`. The
// host runtime then receives the decision on its own connection, like any other. Node built-ins
// only (a small WebSocket client on node:net): staged with the supervisor.
//
// status, policy and logs show the host's snapshot (host-snapshot.ts, pushed by the host daemon)
// and, for status, the layers read from this process now (self-layers.ts).
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import { DENY_ALWAYS_TAG } from "./chat-decision-tag.js";
import type { ChatSnapshot } from "./chat-snapshot-message.js";
import { latestSnapshot } from "./host-snapshot.js";
import { selfLayers } from "./self-layers.js";

const GATEWAY_CONFIG = "/sandbox/.openclaw/openclaw.json";
const GATEWAY_PORT = 18789;

interface CommandContext {
  args?: string;
  channel?: string;
  senderId?: string;
  isAuthorizedSender?: boolean;
}
interface PendingApproval {
  id: string;
  request?: { pluginId?: string | null; title?: string; description?: string; detail?: string | null };
}

export const HELP = [
  "/nemoclaw — this nemoclaw sandbox",
  "",
  "  /nemoclaw status                 sandbox, layers in force, inference route, pending approvals",
  "  /nemoclaw policy                 what egress is allowed",
  "  /nemoclaw logs                   last denials, with the rule and the next step",
  "  /nemoclaw approvals              what is held, waiting for you",
  "  /nemoclaw approve <id> [always]  let it through once, or always (adds a policy rule)",
  "  /nemoclaw deny <id> [always]     refuse it (403), or always (never asked again)",
  "  /nemoclaw help                   this text",
  "",
  "<id> is the runtime's approval id or OpenClaw's (plugin:…); a prefix will do.",
].join("\n");

const NO_SNAPSHOT = "  Host: no snapshot received yet (the host's nemoclaw daemon sends it once it reaches this gateway; on the host: openclaw nemoclaw status)";

function asOf(snapshot: ChatSnapshot): string {
  return `As of ${snapshot.at.replace("T", " ").slice(0, 19)} UTC (sent by the host)`;
}

/** `/nemoclaw status`: the host's facts, then the layers as this gateway process holds them now. */
export function statusText(snapshot: ChatSnapshot | undefined = latestSnapshot()): string {
  const layers = selfLayers();
  return [
    `nemoclaw sandbox${snapshot === undefined ? "" : ` ${snapshot.sandbox}`}`,
    "",
    ...(snapshot === undefined ? [NO_SNAPSHOT] : snapshot.status),
    "  Layers in force (read from this gateway now):",
    ...layers.map((l) => `    ${l.name}: ${l.ok ? "OK" : "NOT IN FORCE"} — ${l.detail}`),
    "    Tools: a stricter Landlock domain (no gateway state or port; egress through the proxy only)",
    ...(snapshot === undefined ? [] : ["", asOf(snapshot)]),
  ].join("\n");
}

function hostText(pick: (s: ChatSnapshot) => string): string {
  const snapshot = latestSnapshot();
  return snapshot === undefined ? `nemoclaw\n\n${NO_SNAPSHOT}` : `${pick(snapshot)}\n${asOf(snapshot)}`;
}

function gatewayToken(): string {
  // The seeded config is JSON after `//` comment lines.
  const text = readFileSync(GATEWAY_CONFIG, "utf8").split("\n").filter((l) => !l.trimStart().startsWith("//")).join("\n");
  const token = (JSON.parse(text) as { gateway?: { auth?: { token?: unknown } } }).gateway?.auth?.token;
  if (typeof token !== "string" || token === "") throw new Error("the gateway's config has no token");
  return token;
}

/**
 * A WebSocket on the gateway's loopback port, built on node:net: Node's global WebSocket goes
 * through the dispatcher OpenClaw installs for proxy.proxyUrl, i.e. out through the egress
 * proxy, which refuses loopback. Text frames only, client frames masked (RFC 6455).
 */
class LoopbackSocket {
  private readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private upgraded = false;
  onText: (text: string) => void = () => {};
  onError: (error: Error) => void = () => {};

  constructor() {
    const key = randomBytes(16).toString("base64");
    this.socket = net.connect(GATEWAY_PORT, "127.0.0.1", () => {
      this.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${GATEWAY_PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    this.socket.on("error", (e) => this.onError(e));
    this.socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      if (!this.upgraded) {
        const end = this.buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(this.buffer.subarray(0, end).toString("latin1"))) return this.onError(new Error("the gateway refused the WebSocket upgrade"));
        this.upgraded = true;
        this.buffer = this.buffer.subarray(end + 4);
      }
      this.drain();
    });
  }

  private drain(): void {
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = (this.buffer[0] as number) & 0x0f;
      let length = (this.buffer[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 1) this.onText(payload.toString("utf8"));
      else if (opcode === 8) this.close();
      else if (opcode === 9) this.frame(10, payload);
    }
  }

  private frame(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const head = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length]) : payload.length < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff]) : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(payload.length)); return b; })()]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
    this.socket.write(Buffer.concat([head, mask, masked]));
  }

  send(text: string): void {
    this.frame(1, Buffer.from(text, "utf8"));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One operator session on the gateway's own port: the handshake, then `run` with a request function. */
async function withGateway<T>(displayName: string, run: (request: (method: string, params: unknown) => Promise<unknown>) => Promise<T>): Promise<T> {
  const ws = new LoopbackSocket();
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const request = (method: string, params: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = randomUUID();
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the gateway did not answer the handshake")), 15_000);
    ws.onError = (e) => reject(new Error(`cannot reach the gateway (${e.message})`));
    ws.onText = (text) => {
      const frame = JSON.parse(text) as { type?: string; event?: string; id?: string; ok?: boolean; payload?: unknown; error?: { message?: string } };
      if (frame.type === "event" && frame.event === "connect.challenge") {
        request("connect", {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: "gateway-client", displayName, version: "nemoclaw", platform: process.platform, mode: "backend" },
          caps: ["approvals"],
          auth: { token: gatewayToken() },
          role: "operator",
          scopes: ["operator.admin", "operator.approvals"],
        }).then(() => {
          clearTimeout(timer);
          resolve();
        }, reject);
      } else if (frame.type === "res" && frame.id !== undefined) {
        const waiting = pending.get(frame.id);
        pending.delete(frame.id);
        if (frame.ok) waiting?.resolve(frame.payload);
        else waiting?.reject(new Error(frame.error?.message ?? "refused"));
      }
    };
  });
  try {
    await ready;
    return await run(request);
  } finally {
    ws.close();
  }
}

function runtimeId(a: PendingApproval): string | undefined {
  try {
    const id = (JSON.parse(a.request?.detail ?? "") as { approval?: unknown }).approval;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

function ours(list: unknown): PendingApproval[] {
  return (Array.isArray(list) ? (list as PendingApproval[]) : []).filter((a) => a.request?.pluginId === "nemoclaw");
}

/** The handler of `/nemoclaw`: returns the reply text. */
export async function handleNemoclawCommand(ctx: CommandContext): Promise<{ text: string }> {
  const [verb = "help", id, extra] = (ctx.args ?? "").trim().split(/\s+/).filter((w) => w !== "");
  if (verb === "help") return { text: HELP };
  if (verb === "status") return { text: statusText() };
  if (verb === "policy") return { text: hostText((s) => s.policy) };
  if (verb === "logs") return { text: hostText((s) => s.logs) };
  const who = `/nemoclaw by ${ctx.channel ?? "chat"}:${ctx.senderId ?? "unknown sender"}`;
  try {
    if (verb === "approvals") {
      const held = ours(await withGateway(who, (request) => request("plugin.approval.list", {})));
      if (held.length === 0) return { text: "No egress approvals are pending." };
      return { text: ["Pending egress approvals", "", ...held.map((a) => `  ${runtimeId(a) ?? "?"}  ${a.request?.title ?? ""}\n      ${a.request?.description ?? ""}\n      /nemoclaw approve ${runtimeId(a) ?? a.id} [always] · /nemoclaw deny ${runtimeId(a) ?? a.id} [always]`)].join("\n") };
    }
    if (verb === "approve" || verb === "deny") {
      if (id === undefined) return { text: `Usage: /nemoclaw ${verb} <id> [always] (ids: /nemoclaw approvals)` };
      if (extra !== undefined && extra !== "always") return { text: `Unknown option "${extra}". Use: /nemoclaw ${verb} <id> [always]` };
      const always = extra === "always";
      // OpenClaw knows no deny-always: a deny resolved under the tag is one (chat-decision-tag.ts).
      const decision = verb === "deny" ? "deny" : always ? "allow-always" : "allow-once";
      const shown = verb === "deny" && always ? "deny-always" : decision;
      return await withGateway(verb === "deny" && always ? `${who}${DENY_ALWAYS_TAG}` : who, async (request) => {
        const matches = ours(await request("plugin.approval.list", {})).filter((a) => a.id.startsWith(id) || (runtimeId(a) ?? "").startsWith(id));
        if (matches.length !== 1) return { text: matches.length === 0 ? `No pending approval ${id}; it may be decided already (/nemoclaw approvals lists them).` : `${id} matches ${matches.length} approvals; give more of the id.` };
        const target = matches[0] as PendingApproval;
        await request("plugin.approval.resolve", { id: target.id, decision });
        return { text: `${shown} for ${runtimeId(target) ?? target.id}: ${target.request?.title ?? ""}` };
      });
    }
  } catch (e) {
    return { text: `nemoclaw: ${(e as Error).message}. The host CLI can decide too: openclaw nemoclaw approvals` };
  }
  return { text: `Unknown subcommand "${verb}".\n\n${HELP}` };
}
