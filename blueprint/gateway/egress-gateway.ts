// The egress proxy behind each sandbox's proxy socket. Per connection: read the caller
// preamble, then speak HTTP proxy with Node's own parser — absolute-form requests are checked
// and forwarded one by one; CONNECT opens either a pure tunnel or, for endpoints that inspect
// requests (`protocol: rest`), a TLS-terminated stream whose requests are checked one by one.
//
// Decision order per destination: policy match on the name (host, port, calling binary) →
// unknown names held for approval → host-side resolution of allowed names only → hard blocks
// on the address we will actually connect to → L7 rules. Every outcome goes to the audit log.

import { EventEmitter } from "node:events";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import type { Policy, SectionChanges } from "../policy/schema.js";
import type { EgressHandler } from "./egress-handler.js";
import { ApprovalQueue } from "./approvals.js";
import type { Approval, ApprovalDecision, ApprovalOutcome } from "./approvals.js";
import type { AuditInput, AuditLog, AuditLogOptions } from "./audit.js";
import { readPreamble } from "./caller.js";
import { checkAddress, resolveHost } from "./hard-blocks.js";
import type { HostMap } from "./hard-blocks.js";
import { canonicalHost, describeCaller, evaluate } from "./policy-engine.js";
import type { Candidate, Decision, RuleRef } from "./policy-engine.js";
import { SandboxState } from "./sandbox-state.js";
import type { SandboxOptions, Tracked, Use } from "./sandbox-state.js";
import type { LeafCacheOptions } from "./leaf-cache.js";

export interface EgressGatewayOptions {
  /** name → address(es), consulted before DNS (like curl --resolve). Does not lift hard blocks. */
  hostMap?: HostMap;
  /** How long a request to an unknown destination is held for approval. Default 60 000 ms. */
  approvalTimeoutMs?: number;
  /** How long a new connection may take to send its caller preamble. Default 5000 ms. */
  preambleTimeoutMs?: number;
  /** Largest request head accepted (Node's maxHeaderSize). Default 16 KiB. */
  maxHeaderSize?: number;
  /** How long a new connection may take to send its first request head. Default 30 000 ms. */
  headersTimeoutMs?: number;
  /** Open connections per sandbox; more are refused. Default 4096. */
  maxConnectionsPerSandbox?: number;
  /** How long an idle keep-alive connection is kept. Default 30 000 ms. */
  keepAliveTimeoutMs?: number;
  /** Upstream TCP connect timeout. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** CA certificates (PEM) that upstream TLS must chain to, instead of Node's bundled roots (tests). */
  upstreamCa?: string | string[];
  /**
   * Names served by the runtime itself (e.g. `inference.local` → the inference router), with
   * the plain-HTTP listener they map to. The policy still decides who may reach them and L7
   * rules still apply; hard blocks do not, since the address is the runtime's own. Requests
   * are forwarded as plain HTTP whatever port or scheme the sandbox used.
   */
  internalHosts?: Record<string, { address: string; port: number }>;
  audit?: AuditLogOptions;
  leafCache?: LeafCacheOptions;
}

const DEFAULTS: Required<
  Pick<EgressGatewayOptions, "approvalTimeoutMs" | "preambleTimeoutMs" | "maxHeaderSize" | "headersTimeoutMs" | "keepAliveTimeoutMs" | "connectTimeoutMs" | "maxConnectionsPerSandbox">
> = {
  maxConnectionsPerSandbox: 4096,
  approvalTimeoutMs: 60_000,
  preambleTimeoutMs: 5_000,
  maxHeaderSize: 16 * 1024,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
};

/** The JSON body of every refusal. */
export interface DenialBody {
  error: string;
  host: string | null;
  port: number | null;
  rule: RuleRef | null;
  reason: string;
  next: string;
}

export interface SetPolicyResult {
  changes: SectionChanges;
  /** Connections closed because the new policy no longer allows what they carry. */
  closed: number;
}

interface Refusal {
  ok: false;
  status: number;
  body: DenialBody;
}

interface Granted {
  ok: true;
  address: string;
  decision: Decision;
  /** Set when an allow-once approval (not the policy) let it through. */
  approvalId?: string;
}

interface Inner {
  conn: Tracked;
  host: string;
  port: number;
  address: string;
}

const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "http2-settings",
]);

function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ""),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key) || key.startsWith("proxy-")) continue;
    out[key] = value;
  }
  return out;
}

/** `host[:port]` / `[v6][:port]` → canonical host and port; undefined when malformed. */
export function parseAuthority(text: string | undefined, defaultPort: number | undefined): { host: string; port: number } | undefined {
  if (text === undefined || text.length === 0 || text.includes("@")) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (m === null) return undefined;
  const host = canonicalHost(m[1] ?? m[2] ?? "");
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (host === undefined || port === undefined || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export class EgressGateway implements EgressHandler {
  readonly approvals: ApprovalQueue;
  /** Emits `reload` ({ sandbox, closed, ms }) after every applied policy change. */
  readonly events = new EventEmitter();
  private readonly options: EgressGatewayOptions & typeof DEFAULTS;
  private readonly sandboxes = new Map<string, SandboxState>();
  private readonly tracked = new WeakMap<net.Socket, Tracked>();
  private readonly inner = new WeakMap<net.Socket, Inner>();
  private readonly outerServer: http.Server;
  private readonly innerServer: http.Server;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private closed = false;
  /** allowedIps of allow-once decisions, read by the held requests as they wake. */
  private readonly onceIps = new Map<string, string[] | undefined>();

  constructor(options: EgressGatewayOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.approvals = new ApprovalQueue({ timeoutMs: this.options.approvalTimeoutMs });
    const serverOptions: http.ServerOptions = {
      maxHeaderSize: this.options.maxHeaderSize,
      requestTimeout: 0,
      headersTimeout: this.options.headersTimeoutMs,
      keepAliveTimeout: this.options.keepAliveTimeoutMs,
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
    };
    this.outerServer = http.createServer(serverOptions);
    this.outerServer.on("request", (req, res) => void this.onProxyRequest(req, res));
    this.outerServer.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void this.onConnect(req, socket, head));
    this.outerServer.on("upgrade", (_req: http.IncomingMessage, socket: net.Socket) => {
      this.refuseRaw(socket, 403, this.denial("upgrade refused", null, null, null, "protocol upgrades through absolute-form requests are not supported", "use CONNECT (the default for WebSocket clients behind a proxy)"));
    });
    this.outerServer.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => this.onClientError(error, socket));
    this.innerServer = http.createServer(serverOptions);
    this.innerServer.on("request", (req, res) => void this.onTunnelRequest(req, res));
    this.innerServer.on("upgrade", (_req: http.IncomingMessage, socket: net.Socket) => {
      this.refuseRaw(socket, 403, this.denial("upgrade refused", null, null, null, "protocol upgrades on inspected endpoints are not supported yet", "give the endpoint a policy without protocol: rest to tunnel it unread"));
    });
    this.innerServer.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => this.onClientError(error, socket));
    this.httpAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxFreeSockets: 64 });
  }

  // ── Sandboxes ────────────────────────────────────────────────────────────────────────────

  /** Registers a sandbox (creating its CA on first use). Returns the CA certificate the sandbox must trust. */
  async addSandbox(name: string, options: SandboxOptions): Promise<{ caCertPem: string; caCertFile: string }> {
    if (this.sandboxes.has(name)) throw new Error(`sandbox ${name} is already registered with the egress gateway`);
    const state = await SandboxState.open(name, options, this.options.audit ?? {}, this.options.leafCache ?? {});
    state.audit.onError = (e) => process.emitWarning(`egress audit log ${state.audit.file}: ${e.message}`);
    this.sandboxes.set(name, state);
    return { caCertPem: state.ca?.certPem ?? "", caCertFile: state.ca?.certFile ?? "" };
  }

  /** Unregisters a sandbox: its connections close and its held requests are refused. */
  async removeSandbox(name: string): Promise<void> {
    const state = this.sandboxes.get(name);
    if (state === undefined) return;
    this.sandboxes.delete(name);
    this.approvals.cancelAll(name);
    for (const conn of state.connections) this.destroy(conn);
    await state.audit.close();
  }

  hasSandbox(name: string): boolean {
    return this.sandboxes.has(name);
  }

  private state(name: string): SandboxState {
    const state = this.sandboxes.get(name);
    if (state === undefined) throw new Error(`no sandbox named ${name} is registered with the egress gateway`);
    return state;
  }

  getPolicy(sandbox: string): Policy {
    return this.state(sandbox).policy;
  }

  caCertPem(sandbox: string): string {
    return this.state(sandbox).ca?.certPem ?? "";
  }

  auditLog(sandbox: string): AuditLog {
    return this.state(sandbox).audit;
  }

  /** Open connections of a sandbox, by how they carry traffic. */
  stats(sandbox: string): { connections: number; tunnels: number; terminated: number } {
    const state = this.state(sandbox);
    let tunnels = 0;
    let terminated = 0;
    for (const conn of state.connections) {
      const modes = [...conn.uses.values()].map((u) => u.mode);
      if (modes.includes("tunnel")) tunnels++;
      if (modes.includes("terminated")) terminated++;
    }
    return { connections: state.connections.size, tunnels, terminated };
  }

  // ── Hot reload ───────────────────────────────────────────────────────────────────────────

  /**
   * Swaps the sandbox's live policy: new connections and requests see it at once, and open
   * connections carrying a destination it no longer allows are closed. A change to a static
   * section throws RecreateNeededError and applies nothing. Does not persist (see applyPolicy).
   */
  setPolicy(sandbox: string, policy: Policy): SetPolicyResult {
    const started = performance.now();
    const state = this.state(sandbox);
    const changes = state.swapPolicy(policy);
    let closed = 0;
    for (const conn of [...state.connections]) {
      for (const use of conn.uses.values()) {
        if (!this.stillAllowed(state, conn, use)) {
          this.destroy(conn);
          closed++;
          break;
        }
      }
    }
    // Held requests whose destination the new policy decides get re-evaluated now.
    for (const approval of this.approvals.list(sandbox)) {
      if (state.engine.match(approval.host, approval.port, approval.caller).action !== "ask") this.approvals.settle(approval.id, "cancelled");
    }
    this.events.emit("reload", { sandbox, closed, ms: performance.now() - started });
    return { changes, closed };
  }

  /** setPolicy, then persist the live policy to the sandbox's policy file (atomically). */
  async applyPolicy(sandbox: string, policy: Policy): Promise<SetPolicyResult> {
    const result = this.setPolicy(sandbox, policy);
    await this.state(sandbox).persistPolicy();
    return result;
  }

  /** Hard blocks, except for the runtime's own internal hosts at their configured address. */
  private addressAllowed(host: string, address: string, allowedIps: readonly string[] | undefined): { allowed: boolean; reason: string } {
    const internal = this.options.internalHosts?.[host];
    if (internal !== undefined && internal.address === address) return { allowed: true, reason: `${host} is served by the runtime` };
    return checkAddress(address, allowedIps);
  }

  private upstreamPort(host: string, port: number): number {
    return this.options.internalHosts?.[host]?.port ?? port;
  }

  private stillAllowed(state: SandboxState, conn: Tracked, use: Use): boolean {
    if (use.pinned === true) return true;
    const matched = state.engine.match(use.host, use.port, conn.caller);
    if (matched.action !== "allow") return false;
    const candidates = matched.candidates.filter((c) => this.addressAllowed(use.host, use.address, c.endpoint.allowed_ips).allowed);
    if (candidates.length === 0) return false;
    // A pure tunnel cannot stay open where requests must now be inspected.
    return !(use.mode === "tunnel" && evaluate(candidates).inspect);
  }

  // ── Approvals ────────────────────────────────────────────────────────────────────────────

  /**
   * Decides a pending approval. `allow-always` adds an endpoint+binary rule to the live policy
   * and persists it; `deny-always` records the destination so it is refused without asking.
   * `allowedIps` pins the approved rule to addresses (needed to reach private or loopback ones).
   */
  async decideApproval(id: string, decision: ApprovalDecision, options: { allowedIps?: string[] } = {}): Promise<Approval> {
    const approval = this.approvals.get(id);
    if (approval === undefined) throw new Error(`no pending approval ${id}; it may have been decided or timed out (openclaw nemoclaw approvals lists the pending ones)`);
    const state = this.state(approval.sandbox);
    if (decision === "allow-always") {
      if (approval.binary === null) throw new Error(`approval ${id} comes from an unidentified process; only allow-once is possible`);
      this.setPolicy(approval.sandbox, state.withApprovedRule(approval.host, approval.port, approval.binary, options.allowedIps));
      await state.persistPolicy();
    } else if (decision === "deny-always") {
      await state.addDenied({ host: approval.host, port: approval.port, binary: approval.binary });
    }
    this.onceIps.set(id, options.allowedIps);
    const settled = this.approvals.settle(id, decision);
    // Held requests read it as they wake, within this turn of the event loop.
    setTimeout(() => this.onceIps.delete(id), 0).unref();
    return settled ?? { ...approval, status: decision };
  }


  // ── Connections ──────────────────────────────────────────────────────────────────────────

  handle(sandbox: string, socket: net.Socket): void {
    socket.on("error", () => {});
    const state = this.sandboxes.get(sandbox);
    if (state === undefined || this.closed) {
      socket.destroy();
      return;
    }
    readPreamble(socket, { secret: state.checkSecret, timeoutMs: this.options.preambleTimeoutMs }).then(
      ({ caller: named, rest }) => {
        // A different file at a path seen before is not that binary (trust on first use).
        const caller = state.pins.vet(named);
        if (!this.sandboxes.has(sandbox) || socket.destroyed) {
          socket.destroy();
          return;
        }
        if (state.connections.size >= this.options.maxConnectionsPerSandbox) {
          this.refuseRaw(socket, 503, this.denial("too many connections", null, null, null, `the sandbox has ${state.connections.size} open connections`, "close idle connections and retry"));
          return;
        }
        const conn: Tracked = { sandbox, caller, socket, uses: new Map(), linked: new Set(), spoke: false };
        this.tracked.set(socket, conn);
        // Node's own headersTimeout only runs for servers that listen; ours are fed sockets.
        const silent = setTimeout(() => {
          if (!conn.spoke) socket.destroy();
        }, this.options.headersTimeoutMs);
        silent.unref();
        socket.once("close", () => clearTimeout(silent));
        state.connections.add(conn);
        socket.once("close", () => {
          state.connections.delete(conn);
          for (const linked of conn.linked) linked.destroy();
        });
        if (rest.length > 0) socket.unshift(rest);
        this.outerServer.emit("connection", socket);
        socket.resume();
      },
      (error: Error) => {
        this.refuseRaw(socket, 400, this.denial("bad preamble", null, null, null, error.message, "connect through the sandbox's proxy at 127.0.0.1:3128"));
      },
    );
  }

  private destroy(conn: Tracked): void {
    conn.socket.destroy();
    for (const linked of conn.linked) linked.destroy();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.approvals.cancelAll();
    for (const state of this.sandboxes.values()) {
      for (const conn of state.connections) this.destroy(conn);
    }
    this.outerServer.closeAllConnections();
    this.innerServer.closeAllConnections();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    await Promise.all([...this.sandboxes.values()].map((s) => s.audit.close()));
  }

  // ── Refusals ─────────────────────────────────────────────────────────────────────────────

  private denial(error: string, host: string | null, port: number | null, rule: RuleRef | null, reason: string, next: string): DenialBody {
    return { error, host, port, rule, reason, next };
  }

  private nextStep(sandbox: string, kind: "unknown" | "policy"): string {
    return kind === "unknown"
      ? `ask the operator to approve it (openclaw nemoclaw approvals, then approve <id>) or to add a policy (openclaw nemoclaw ${sandbox} policy add-preset <name> | policy set <file>)`
      : `ask the operator to change the policy (openclaw nemoclaw ${sandbox} policy get, edit, then policy set <file>)`;
  }

  private refuseRaw(socket: net.Socket, status: number, body: DenialBody): void {
    if (socket.destroyed) return;
    const json = JSON.stringify(body);
    const text = { 400: "Bad Request", 403: "Forbidden", 431: "Request Header Fields Too Large", 502: "Bad Gateway", 503: "Service Unavailable" }[status] ?? "Error";
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
    socket.destroySoon();
  }

  private respond(res: http.ServerResponse, status: number, body: DenialBody): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const json = JSON.stringify(body);
    // Discard the refused request's body so the connection stays usable for the next one.
    res.req.resume();
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
    res.end(json);
  }

  private onClientError(error: NodeJS.ErrnoException, socket: net.Socket): void {
    const code = error.code ?? "";
    const status = code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const reason =
      code === "HPE_HEADER_OVERFLOW"
        ? `request head larger than ${this.options.maxHeaderSize} bytes`
        : code === "HPE_UNEXPECTED_CONTENT_LENGTH" || code === "HPE_INVALID_TRANSFER_ENCODING" || code === "HPE_INVALID_CONTENT_LENGTH"
          ? `ambiguous message framing (${code}): refused as possible request smuggling`
          : `malformed HTTP (${code || error.message})`;
    const conn = this.tracked.get(socket) ?? this.inner.get(socket)?.conn;
    if (conn !== undefined) {
      this.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
    }
    if (code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    this.refuseRaw(socket, status, this.denial("bad request", null, null, null, reason, "send one well-formed HTTP/1.1 request (absolute-form or CONNECT)"));
  }

  private record(conn: Tracked, input: Omit<AuditInput, "sandbox" | "caller">): void {
    this.sandboxes.get(conn.sandbox)?.audit.write({ sandbox: conn.sandbox, caller: conn.caller, ...input });
  }

  // ── Authorisation ────────────────────────────────────────────────────────────────────────

  /** Name-level policy (holding unknown names for approval), then resolution and hard blocks. */
  private async authorize(conn: Tracked, host: string, port: number, http?: { method: string; target: string }): Promise<Granted | Refusal> {
    const refuse = (status: number, error: string, rule: RuleRef | null, reason: string, kind: "unknown" | "policy", decision: AuditInput["decision"] = "deny", approvalId?: string): Refusal => {
      this.record(conn, { decision, host, port, rule, reason, ...(http === undefined ? {} : { http: { ...http, scheme: "http" as const } }), ...(approvalId === undefined ? {} : { approvalId }) });
      return { ok: false, status, body: this.denial(error, host, port, rule, reason, this.nextStep(conn.sandbox, kind)) };
    };
    let candidates: Candidate[] | undefined;
    let approvalId: string | undefined;
    for (let attempt = 0; candidates === undefined; attempt++) {
      const state = this.sandboxes.get(conn.sandbox);
      if (state === undefined) return refuse(403, "sandbox removed", null, "the sandbox is no longer registered", "policy");
      const matched = state.engine.match(host, port, conn.caller);
      if (matched.action === "allow") {
        candidates = matched.candidates;
        break;
      }
      if (matched.action === "deny") return refuse(403, "denied by policy", matched.rule, matched.reason, "policy");
      if (state.isDenied(host, port, conn.caller.exe)) return refuse(403, "denied by operator", null, `${host}:${port} was denied by the operator (deny-always)`, "unknown");
      if (state.options.unknown === "deny") return refuse(403, "not in policy", null, matched.reason, "unknown");
      if (conn.caller.exe === null) return refuse(403, "not in policy", null, `${matched.reason}; ${describeCaller(conn.caller)} cannot be approved`, "unknown");
      if (attempt >= 3) return refuse(403, "not in policy", null, matched.reason, "unknown");
      const held = this.approvals.hold(
        { sandbox: conn.sandbox, host, port, caller: conn.caller, ...(http === undefined ? {} : { request: { method: http.method, path: http.target.split("?")[0] ?? "/" } }) },
        (approval) => this.record(conn, { decision: "held", host, port, rule: null, reason: `${matched.reason}; held for approval ${approval.id}`, approvalId: approval.id }),
      );
      approvalId = held.approval.id;
      const outcome: ApprovalOutcome = await held.outcome;
      if (outcome === "timeout") return refuse(403, "approval timed out", null, `approval ${approvalId} timed out after ${this.options.approvalTimeoutMs} ms`, "unknown", "timeout", approvalId);
      if (outcome === "deny" || outcome === "deny-always") return refuse(403, "denied by operator", null, `approval ${approvalId} was denied`, "unknown", "deny", approvalId);
      if (outcome === "allow-once") {
        const ips = this.onceIps.get(approvalId);
        candidates = [{ ref: { policy: `approval:${approvalId}`, endpoint: 0 }, endpoint: { host, port, ...(ips === undefined ? {} : { allowed_ips: ips }) }, binary: conn.caller.exe }];
        this.record(conn, { decision: "approved", host, port, rule: null, reason: `allowed once by approval ${approvalId}`, approvalId });
        break;
      }
      if (outcome === "allow-always") this.record(conn, { decision: "approved", host, port, rule: null, reason: `allowed always by approval ${approvalId}`, approvalId });
      // allow-always (the policy now has the rule), cancelled (policy changed): decide again.
    }
    const internal = this.options.internalHosts?.[host];
    let addresses: string[];
    try {
      addresses = internal !== undefined ? [internal.address] : await resolveHost(host, this.options.hostMap);
    } catch (e) {
      return refuse(502, "cannot resolve", candidates[0]?.ref ?? null, `${host} did not resolve on the host (${(e as NodeJS.ErrnoException).code ?? "error"})`, "policy");
    }
    let firstProblem: string | undefined;
    for (const address of addresses) {
      const passing = candidates.filter((c) => {
        const verdict = this.addressAllowed(host, address, c.endpoint.allowed_ips);
        firstProblem ??= verdict.allowed ? undefined : verdict.reason;
        return verdict.allowed;
      });
      if (passing.length > 0) {
        return { ok: true, address, decision: evaluate(passing, http), ...(approvalId === undefined ? {} : { approvalId }) };
      }
    }
    return refuse(403, "blocked address", candidates[0]?.ref ?? null, firstProblem ?? `${host} resolved to no address`, "policy");
  }

  // ── Absolute-form HTTP ───────────────────────────────────────────────────────────────────

  private async onProxyRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const conn = this.tracked.get(req.socket);
    if (conn === undefined) {
      req.socket.destroy();
      return;
    }
    conn.spoke = true;
    const url = req.url ?? "";
    const method = req.method ?? "GET";
    const m = /^http:\/\/([^/?#]*)(.*)$/is.exec(url);
    if (m === null) {
      const reason = /^https:\/\//i.test(url) ? "https URLs go through CONNECT, not absolute-form requests" : "not a proxy request: expected an absolute-form http:// URL";
      this.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
      this.respond(res, 400, this.denial("bad request", null, null, null, reason, "set HTTP_PROXY/HTTPS_PROXY to http://127.0.0.1:3128"));
      return;
    }
    const authority = parseAuthority(m[1], 80);
    const rest = m[2] ?? "";
    const target = rest === "" ? "/" : rest.startsWith("?") ? `/${rest}` : rest;
    if (authority === undefined || !target.startsWith("/")) {
      const reason = `"${m[1] ?? ""}" is not a valid host[:port]`;
      this.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
      this.respond(res, 400, this.denial("bad request", null, null, null, reason, "send an absolute-form URL such as http://example.com/path"));
      return;
    }
    const { host, port } = authority;
    const hostHeader = parseAuthority(req.headers.host, 80);
    if (hostHeader === undefined || hostHeader.host !== host || hostHeader.port !== port) {
      const reason = `Host header "${req.headers.host ?? ""}" does not name the request URL's host ${host}:${port}`;
      this.record(conn, { decision: "deny", host, port, rule: null, reason, http: { method, target, scheme: "http" } });
      this.respond(res, 403, this.denial("host mismatch", host, port, null, reason, "send a Host header equal to the URL's host"));
      return;
    }
    const started = performance.now();
    const granted = await this.authorize(conn, host, port, { method, target });
    if (!granted.ok) {
      this.respond(res, granted.status, granted.body);
      return;
    }
    const { decision, address } = granted;
    if (decision.action !== "allow") {
      this.record(conn, { decision: "deny", host, port, address, rule: decision.rule, reason: decision.reason, http: { method, target, scheme: "http" } });
      this.respond(res, 403, this.denial("denied by policy", host, port, decision.rule, decision.reason, this.nextStep(conn.sandbox, "policy")));
      return;
    }
    conn.uses.set(`${host}:${port}`, { host, port, address, mode: "http", ...(granted.approvalId === undefined ? {} : { pinned: true }) });
    this.forward(conn, req, res, { host, port, address, target, decision, started, tls: false, ...(granted.approvalId === undefined ? {} : { approvalId: granted.approvalId }) });
  }

  private forward(
    conn: Tracked,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    f: { host: string; port: number; address: string; target: string; decision: Decision; started: number; tls: boolean; approvalId?: string },
  ): void {
    const method = req.method ?? "GET";
    const headers = endToEndHeaders(req.headers);
    const internal = this.options.internalHosts?.[f.host] !== undefined;
    const common = { host: f.address, port: this.upstreamPort(f.host, f.port), method, path: f.target, headers, setHost: false };
    const upstream = f.tls && !internal
      ? https.request({
          ...common,
          agent: this.httpsAgent,
          // Verified against the name the sandbox asked for (servername), or the literal address.
          // No per-request checkServerIdentity: a closure in the options defeats the agent's reuse.
          ...(net.isIP(f.host) === 0 ? { servername: f.host } : {}),
          ...(this.options.upstreamCa === undefined ? {} : { ca: this.options.upstreamCa }),
        })
      : http.request({ ...common, agent: this.httpAgent });
    let up = 0;
    let down = 0;
    let status: number | undefined;
    let done = false;
    const finish = (reason: string): void => {
      if (done) return;
      done = true;
      this.record(conn, {
        decision: "allow",
        host: f.host,
        port: f.port,
        address: f.address,
        rule: f.decision.rule,
        reason,
        http: { method, target: f.target, scheme: f.tls ? "https" : "http", ...(status === undefined ? {} : { status }) },
        bytesUp: up,
        bytesDown: down,
        durationMs: performance.now() - f.started,
        auditOnly: f.decision.audit,
        ...(f.approvalId === undefined ? {} : { approvalId: f.approvalId }),
      });
    };
    upstream.on("socket", (s: net.Socket) => {
      s.setNoDelay(true);
      // A connect timeout only: long polls and slow streams may stay quiet for minutes.
      if (s.connecting) {
        const timer = setTimeout(() => upstream.destroy(Object.assign(new Error("connect timed out"), { code: "ETIMEDOUT" })), this.options.connectTimeoutMs);
        s.once("connect", () => clearTimeout(timer));
        s.once("close", () => clearTimeout(timer));
      }
    });
    upstream.on("response", (upRes) => {
      status = upRes.statusCode ?? 502;
      res.writeHead(status, upRes.statusMessage, endToEndHeaders(upRes.headers));
      upRes.on("data", (chunk: Buffer) => (down += chunk.length));
      upRes.pipe(res);
      upRes.on("end", () => finish(f.decision.reason));
      upRes.on("error", () => res.destroy());
      upRes.on("aborted", () => res.destroy());
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      finish(`${f.decision.reason}; upstream failed: ${error.code ?? error.message}`);
      if (!res.headersSent) {
        this.respond(res, 502, this.denial("upstream unreachable", f.host, f.port, f.decision.rule, `${f.host}:${f.port} (${f.address}): ${error.code ?? error.message}`, "check that the destination is up"));
      } else {
        res.destroy();
      }
    });
    req.on("data", (chunk: Buffer) => (up += chunk.length));
    req.pipe(upstream);
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  // ── CONNECT ──────────────────────────────────────────────────────────────────────────────

  private async onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const conn = this.tracked.get(socket);
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    conn.spoke = true;
    const target = parseAuthority(req.url, undefined);
    if (target === undefined) {
      const reason = `CONNECT target "${req.url ?? ""}" is not host:port`;
      this.record(conn, { decision: "deny", host: "-", port: 0, rule: null, reason });
      this.refuseRaw(socket, 400, this.denial("bad request", null, null, null, reason, "CONNECT host:port"));
      return;
    }
    const { host, port } = target;
    if (req.headers.host !== undefined) {
      const hostHeader = parseAuthority(req.headers.host, port);
      if (hostHeader === undefined || hostHeader.host !== host || hostHeader.port !== port) {
        const reason = `Host header "${req.headers.host}" does not name the CONNECT target ${host}:${port}`;
        this.record(conn, { decision: "deny", host, port, rule: null, reason });
        this.refuseRaw(socket, 403, this.denial("host mismatch", host, port, null, reason, "send a Host header equal to the CONNECT target"));
        return;
      }
    }
    const granted = await this.authorize(conn, host, port);
    if (!granted.ok) {
      this.refuseRaw(socket, granted.status, granted.body);
      return;
    }
    if (socket.destroyed) return;
    const { address, decision } = granted;
    const pinned = granted.approvalId === undefined ? {} : { pinned: true };
    if (decision.inspect) {
      conn.uses.set(`${host}:${port}`, { host, port, address, mode: "terminated", ...pinned });
      this.record(conn, { decision: "allow", host, port, address, rule: decision.rule, reason: `${decision.reason} (TLS terminated)` });
      await this.terminate(conn, socket, head, host, port, address);
      return;
    }
    conn.uses.set(`${host}:${port}`, { host, port, address, mode: "tunnel", ...pinned });
    this.tunnel(conn, socket, head, host, port, address, decision, granted.approvalId);
  }

  private tunnel(conn: Tracked, socket: net.Socket, head: Buffer, host: string, port: number, address: string, decision: Decision, approvalId?: string): void {
    const started = performance.now();
    const upstream = net.connect({ host: address, port: this.upstreamPort(host, port), noDelay: true });
    conn.linked.add(upstream);
    let open = false;
    upstream.setTimeout(this.options.connectTimeoutMs, () => upstream.destroy(new Error("connect timed out")));
    upstream.once("connect", () => {
      open = true;
      upstream.setTimeout(0);
      this.record(conn, { decision: "allow", host, port, address, rule: decision.rule, reason: decision.reason, ...(approvalId === undefined ? {} : { approvalId }) });
      socket.setTimeout(0);
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (!open) {
        this.record(conn, { decision: "deny", host, port, address, rule: decision.rule, reason: `upstream unreachable: ${error.code ?? error.message}` });
        this.refuseRaw(socket, 502, this.denial("upstream unreachable", host, port, decision.rule, `${host}:${port} (${address}): ${error.code ?? error.message}`, "check that the destination is up"));
      }
      socket.destroy();
    });
    upstream.once("close", () => {
      conn.linked.delete(upstream);
      socket.destroy();
      if (open) {
        this.record(conn, { decision: "close", host, port, address, rule: decision.rule, reason: "tunnel closed", bytesUp: upstream.bytesWritten, bytesDown: upstream.bytesRead, durationMs: performance.now() - started });
      }
    });
    socket.once("close", () => upstream.destroy());
  }

  // ── Terminated TLS ───────────────────────────────────────────────────────────────────────

  private async terminate(conn: Tracked, socket: net.Socket, head: Buffer, host: string, port: number, address: string): Promise<void> {
    const leaves = this.sandboxes.get(conn.sandbox)?.leaves;
    if (leaves === undefined) {
      socket.destroy();
      return;
    }
    const context = await leaves.context(host);
    if (socket.destroyed) return;
    socket.setTimeout(0);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (servername, callback) => {
        const sni = canonicalHost(servername);
        if (sni !== host) {
          const reason = `TLS SNI "${servername}" does not match the CONNECT target ${host}`;
          this.record(conn, { decision: "deny", host, port, address, rule: null, reason });
          callback(new Error(reason), undefined);
          return;
        }
        callback(null, context);
      },
    });
    conn.linked.add(secure);
    secure.on("error", () => socket.destroy());
    secure.once("secure", () => {
      this.inner.set(secure, { conn, host, port, address });
      this.innerServer.emit("connection", secure);
    });
  }

  private async onTunnelRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const ctx = this.inner.get(req.socket);
    if (ctx === undefined) {
      req.socket.destroy();
      return;
    }
    const { conn, host, port, address } = ctx;
    const method = req.method ?? "GET";
    const started = performance.now();
    let target = req.url ?? "/";
    const deny = (status: number, error: string, rule: RuleRef | null, reason: string): void => {
      this.record(conn, { decision: "deny", host, port, address, rule, reason, http: { method, target, scheme: "https" } });
      this.respond(res, status, this.denial(error, host, port, rule, reason, this.nextStep(conn.sandbox, "policy")));
    };
    const absolute = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(target);
    if (absolute !== null) {
      const named = parseAuthority(absolute[2], absolute[1]?.toLowerCase() === "http" ? 80 : 443);
      if (named === undefined || named.host !== host || named.port !== port) {
        return deny(403, "host mismatch", null, `absolute-form URL ${target.slice(0, 200)} inside the tunnel to ${host}:${port} names another destination`);
      }
      const rest = absolute[3] ?? "";
      target = rest === "" ? "/" : rest.startsWith("?") ? `/${rest}` : rest;
    }
    const hostHeader = parseAuthority(req.headers.host, port === 443 ? 443 : port);
    if (hostHeader === undefined || hostHeader.host !== host || hostHeader.port !== port) {
      return deny(403, "host mismatch", null, `Host header "${req.headers.host ?? ""}" does not name the tunnel's destination ${host}:${port}`);
    }
    const state = this.sandboxes.get(conn.sandbox);
    if (state === undefined) return deny(403, "sandbox removed", null, "the sandbox is no longer registered");
    const matched = state.engine.match(host, port, conn.caller);
    const candidates = matched.candidates.filter((c) => this.addressAllowed(host, address, c.endpoint.allowed_ips).allowed);
    if (candidates.length === 0) return deny(403, "denied by policy", matched.rule, matched.action === "allow" ? `${address} is not allowed for this endpoint any more` : matched.reason);
    const decision = evaluate(candidates, { method, target });
    if (decision.action !== "allow") return deny(403, "denied by policy", decision.rule, decision.reason);
    this.forward(conn, req, res, { host, port, address, target, decision, started, tls: true });
  }
}

/** Creates the egress gateway. The daemon registers sandboxes with `addSandbox` and hands each proxy-socket connection to `handle`. */
export function createEgressGateway(options: EgressGatewayOptions = {}): EgressGateway {
  return new EgressGateway(options);
}

