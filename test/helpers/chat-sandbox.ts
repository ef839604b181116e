// A gateway sandbox whose held egress requests are prompted in OpenClaw: the host daemon with the
// real egress gateway (and so the chat bridge), a real gateway sandbox, an upstream on the host's
// loopback serving the test names (internalHosts: no DNS, no hard block), and a test operator: an
// approval client of the sandbox's OpenClaw over its gateway protocol, through the relay socket
// with the gateway token, as the TUI or a chat surface would be.
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { gatewaySocketFile } from "../../blueprint/sandbox/gateway-inside.js";
import { OpenclawGatewayClient } from "../../blueprint/runtime/openclaw-gateway-client.js";
import { gatewayModelsFor } from "../../blueprint/runtime/gateway-models.js";
import { toolShellArgv } from "../../blueprint/sandbox/gateway-inside.js";
import { sandboxDir } from "../../blueprint/state/paths.js";
import { createSandboxHarness, type SandboxHarness } from "./docker-sandbox.js";
import { startHttpUpstream, type Upstream } from "./gateway-harness.js";

export interface PromptSeen {
  at: number;
  id: string;
  title: string;
  description: string;
  /** The session OpenClaw recorded for the prompt (where session-mode forwarding delivers it). */
  sessionKey: string | null;
}

export interface ChatSandbox {
  h: SandboxHarness;
  name: string;
  upstream: Upstream;
  operator: OpenclawGatewayClient;
  token: string;
  /** The daemon's log lines (the chat bridge says there why it did not prompt). */
  logs: string[];
  /** plugin.approval.requested events the operator received, in order. */
  requested: PromptSeen[];
  /** Every other event's payload as JSON text, with its name (chat replies among them). */
  events: Array<{ event: string; json: string }>;
  /** plugin.approval.resolved events the operator received. */
  resolved: Array<{ id: string; decision: string; resolvedBy: unknown }>;
  /** Runs a shell command in the tools' domain, as the backend plugin builds it. */
  inTools(command: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** An HTTP GET from the tools' domain (node, absolute-form to the forwarder): "<body> <status>" or "error <code>". */
  getFromTools(host: string, urlPath?: string): Promise<string>;
  /** The first prompt for `host` the operator saw at or after `after` (waits up to 30 s). */
  promptFor(host: string, after: number): Promise<PromptSeen>;
  /** Sends `message` to the main session as the operator (chat.send); the final reply's JSON text. */
  say(message: string, timeoutMs?: number): Promise<string>;
  /** Another chat sender: a client of the gateway with the token and `scopes` (e.g. not operator.admin). */
  sender(displayName: string, scopes: string[]): Promise<ChatSender>;
  /** The runtime's pending approvals for `host`. */
  pending(host: string): Promise<Array<{ id: string; createdAt: string; status: string }>>;
  dispose(): Promise<void>;
}

export interface ChatSender {
  client: OpenclawGatewayClient;
  /** As ChatSandbox.say, from this sender. */
  say(message: string, timeoutMs?: number): Promise<string>;
}

/** chat.send to the main session on `client`, then the final chat event of that run from `events`. */
async function sayOn(client: OpenclawGatewayClient, events: Array<{ event: string; json: string }>, message: string, timeoutMs: number): Promise<string> {
  const since = events.length;
  const key = randomUUID();
  await client.request("chat.send", { sessionKey: "main", message, idempotencyKey: key }, timeoutMs);
  // The final chat event of this run (the run id is the idempotency key): replies of other runs may arrive in between.
  const mine = (e: { event: string; json: string }) => e.event === "chat" && e.json.includes('"state":"final"') && e.json.includes(`"runId":"${key}"`);
  return until(`the reply to ${message}`, () => events.slice(since).find(mine)?.json, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message}; events since:\n${events.slice(since).slice(-8).map((x) => `${x.event} ${x.json.slice(0, 400)}`).join("\n")}`);
  });
}

export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A GET through the forwarder as most HTTP clients send it for http:// (no single quotes: it goes into sh -c '…'). */
function getScript(host: string, urlPath: string): string {
  const url = JSON.stringify(`http://${host}${urlPath}`);
  return `require("http").get({host:"127.0.0.1",port:3128,path:${url},headers:{host:${JSON.stringify(host)}}},(r)=>{let b="";r.on("data",(c)=>b+=c);r.on("end",()=>console.log(b+" "+r.statusCode))}).on("error",(e)=>console.log("error "+e.code))`;
}

export async function createChatSandbox(prefix: string, hosts: readonly string[], approvalTimeoutMs: number): Promise<ChatSandbox> {
  // With the runtime's gateway models: a test may set an inference route and follow it (followRoute).
  const h = await createSandboxHarness({ daemon: false, gatewayModelsFor });
  const upstream = await startHttpUpstream();
  await writeFile(
    path.join(h.stateDir, "egress.json"),
    JSON.stringify({ internalHosts: Object.fromEntries(hosts.map((host) => [host, { address: "127.0.0.1", port: upstream.port }])), approvalTimeoutMs }),
  );
  const logs: string[] = [];
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: (m) => logs.push(m) });
  const name = (await h.create(prefix, { gateway: true })).name;
  const token = (await readFile(path.join(sandboxDir(h.stateDir, name), "gateway.token"), "utf8")).trim();
  const socket = gatewaySocketFile(h.stateDir, name);
  const requested: PromptSeen[] = [];
  const resolved: ChatSandbox["resolved"] = [];
  const events: ChatSandbox["events"] = [];
  // The gateway takes a while to start inside (several seconds, more on a busy machine).
  const operator = await until(
    "the gateway inside to accept an operator client",
    () =>
      OpenclawGatewayClient.connect({
        connect: () => net.connect(socket),
        token,
        displayName: "test operator",
        // An operator's surface (TUI, Control UI) is admin-scoped: OpenClaw shows a plugin approval
        // requested over the protocol only to its requester and to operator.admin clients.
        scopes: ["operator.admin", "operator.approvals"],
        onEvent: (event, payload) => {
          const p = payload as { id: string; request?: { title: string; description: string; sessionKey?: string | null }; decision?: string; resolvedBy?: unknown };
          if (event === "plugin.approval.requested") requested.push({ at: Date.now(), id: p.id, title: p.request?.title ?? "", description: p.request?.description ?? "", sessionKey: p.request?.sessionKey ?? null });
          if (event === "plugin.approval.resolved") resolved.push({ id: p.id, decision: p.decision ?? "", resolvedBy: p.resolvedBy });
          else if (event !== "plugin.approval.requested") events.push({ event, json: JSON.stringify(payload) });
        },
      }).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000))),
    300_000,
  ).catch(async (e: Error) => {
    // Say why (a loaded machine can make OpenClaw's start-up give up: exit 78), and leave nothing behind.
    const inside = await h.exec(name, ["sh", "-c", "tail -n 30 /tmp/openclaw/*.log"]).catch(() => undefined);
    await h.dispose();
    await upstream.close();
    throw new Error(`${e.message}\ndaemon log:\n${logs.slice(-15).join("\n")}\ngateway log:\n${inside?.stdout ?? "unreadable (the sandbox stopped?)"}`);
  });
  const inTools = (command: string) => h.exec(name, toolShellArgv(command));
  const senders: OpenclawGatewayClient[] = [];
  return {
    h,
    name,
    upstream,
    operator,
    token,
    requested,
    resolved,
    events,
    inTools,
    getFromTools: (host, urlPath = "/hello") => inTools(`/usr/local/bin/node -e '${getScript(host, urlPath)}'`).then((r) => r.stdout.trim() || `no output: ${r.stderr}`),
    logs,
    promptFor: (host, after) =>
      until(`a prompt for ${host}`, () => requested.find((r) => r.at >= after && r.title.includes(host))).catch((e: Error) => {
        throw new Error(`${e.message}; daemon log:\n${logs.slice(-20).join("\n")}`);
      }),
    say: (message, timeoutMs = 60_000) => sayOn(operator, events, message, timeoutMs),
    sender: async (displayName, scopes) => {
      const seen: Array<{ event: string; json: string }> = [];
      const client = await OpenclawGatewayClient.connect({ connect: () => net.connect(socket), token, displayName, scopes, onEvent: (event, payload) => seen.push({ event, json: JSON.stringify(payload) }) });
      senders.push(client);
      return { client, say: (message, timeoutMs = 60_000) => sayOn(client, seen, message, timeoutMs) };
    },
    pending: async (host) => {
      const { approvals } = (await controlRequest(h.stateDir, "POST", "/egress/approvals/list", {})) as { approvals: Array<{ id: string; host: string; createdAt: string; status: string }> };
      return approvals.filter((a) => a.host === host);
    },
    dispose: async () => {
      for (const s of senders) s.close();
      operator.close();
      await h.dispose();
      await upstream.close();
    },
  };
}
