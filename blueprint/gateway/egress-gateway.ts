// The egress proxy behind each sandbox's proxy socket: the core that holds the registered
// sandboxes, takes each connection (caller preamble, connection cap, tracking), feeds it to
// Node's HTTP parser, applies policy changes to open connections, and shuts down. The
// mechanisms live beside it, one per file:
//   authorize.ts       policy match → approvals → resolution → hard blocks
//   absolute-form.ts   plain-HTTP proxy requests
//   connect-tunnel.ts  CONNECT: pure tunnels (or hand-off to TLS termination)
//   tls-terminate.ts   terminated TLS and the requests inside it
//   upstream-request.ts forwarding one request upstream (hop-by-hop headers, per-caller pools)
//   method-override.ts L7 rules on the wire method and on X-HTTP-Method-Override & co.
//   client-hello.ts    the SNI of a pure tunnel's ClientHello, read without terminating
//   head-deadline.ts   every request head on a connection is due within headersTimeoutMs
//   refusals.ts        refusal bodies and responses; authority.ts  host[:port] parsing
// Every outcome goes to the audit log.

import { EventEmitter } from "node:events";
import http from "node:http";
import type net from "node:net";
import type { Policy } from "../policy/schema.js";
import type { SectionChanges } from "../policy/diff.js";
import { handleAbsoluteForm } from "./absolute-form.js";
import type { Approval, ApprovalDecision, ApprovalQueue } from "./approvals.js";
import type { AuditInput, AuditLog } from "./audit.js";
import { addressAllowed, Authorizer } from "./authorize.js";
import { readPreamble } from "./caller.js";
import { handleConnect } from "./connect-tunnel.js";
import { HeadDeadlines } from "./head-deadline.js";
import type { EgressHandler } from "./egress-handler.js";
import { resolveGatewayOptions } from "./gateway-context.js";
import type { EgressGatewayOptions, GatewayContext, ResolvedGatewayOptions } from "./gateway-context.js";
import { evaluate } from "./policy-engine.js";
import { denial, refuseMalformed, refuseRaw } from "./refusals.js";
import { SandboxState } from "./sandbox-state.js";
import type { SandboxOptions, Tracked, Use } from "./sandbox-state.js";
import { TlsTerminator } from "./tls-terminate.js";
import { UpstreamForwarder } from "./upstream-request.js";

export type { EgressGatewayOptions } from "./gateway-context.js";

export interface SetPolicyResult {
  changes: SectionChanges;
  /** Connections closed because the new policy no longer allows what they carry. */
  closed: number;
}

export class EgressGateway implements EgressHandler {
  readonly approvals: ApprovalQueue;
  /** Emits `reload` ({ sandbox, closed, ms }) after every applied policy change. */
  readonly events = new EventEmitter();
  private readonly options: ResolvedGatewayOptions;
  private readonly sandboxes = new Map<string, SandboxState>();
  private readonly tracked = new WeakMap<net.Socket, Tracked>();
  private readonly ctx: GatewayContext;
  private readonly authorizer: Authorizer;
  private readonly upstream: UpstreamForwarder;
  private readonly terminator: TlsTerminator;
  private readonly server: http.Server;
  private readonly deadlines: HeadDeadlines;
  private closed = false;

  constructor(options: EgressGatewayOptions = {}) {
    this.options = resolveGatewayOptions(options);
    this.ctx = {
      options: this.options,
      sandbox: (name) => this.sandboxes.get(name),
      record: (conn, input) => this.record(conn, input),
    };
    this.authorizer = new Authorizer(this.ctx);
    this.approvals = this.authorizer.approvals;
    this.upstream = new UpstreamForwarder(this.ctx);
    const serverOptions: http.ServerOptions = {
      maxHeaderSize: this.options.maxHeaderSize,
      requestTimeout: 0,
      headersTimeout: this.options.headersTimeoutMs,
      keepAliveTimeout: this.options.keepAliveTimeoutMs,
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
    };
    this.deadlines = new HeadDeadlines(this.options.headersTimeoutMs);
    this.terminator = new TlsTerminator(this.ctx, this.upstream, serverOptions);
    this.server = http.createServer(serverOptions);
    this.server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.deadlines.request(req, res);
      const conn = this.connection(req.socket);
      if (conn !== undefined) void handleAbsoluteForm(this.ctx, this.authorizer, this.upstream, conn, req, res);
    });
    this.server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      this.deadlines.release(socket);
      const conn = this.connection(socket);
      if (conn !== undefined) void handleConnect(this.ctx, this.authorizer, this.terminator, conn, req, socket, head);
    });
    this.server.on("upgrade", (_req: http.IncomingMessage, socket: net.Socket) => {
      refuseRaw(socket, 403, denial("upgrade refused", null, null, null, "protocol upgrades through absolute-form requests are not supported", "use CONNECT (the default for WebSocket clients behind a proxy)"));
    });
    this.server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => refuseMalformed(this.ctx, this.tracked.get(socket), error, socket));
  }

  /** The connection a request arrived on; an untracked socket is closed. */
  private connection(socket: net.Socket): Tracked | undefined {
    const conn = this.tracked.get(socket);
    if (conn === undefined) socket.destroy();
    return conn;
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
    this.authorizer.recheckHeld(sandbox, state);
    this.events.emit("reload", { sandbox, closed, ms: performance.now() - started });
    return { changes, closed };
  }

  /** setPolicy, then persist the live policy to the sandbox's policy file (atomically). */
  async applyPolicy(sandbox: string, policy: Policy): Promise<SetPolicyResult> {
    const result = this.setPolicy(sandbox, policy);
    await this.state(sandbox).persistPolicy();
    return result;
  }

  private stillAllowed(state: SandboxState, conn: Tracked, use: Use): boolean {
    if (use.pinned === true) return true;
    const matched = state.engine.match(use.host, use.port, conn.caller);
    if (matched.action !== "allow") return false;
    const candidates = matched.candidates.filter((c) => addressAllowed(this.options, use.host, use.address, c.endpoint.allowed_ips).allowed);
    if (candidates.length === 0) return false;
    // A pure tunnel cannot stay open where requests must now be inspected.
    return !(use.mode === "tunnel" && evaluate(candidates).inspect);
  }

  // ── Approvals ────────────────────────────────────────────────────────────────────────────

  /** Decides a pending approval (authorize.ts); allow-always changes the live policy through setPolicy. */
  decideApproval(id: string, decision: ApprovalDecision, options: { allowedIps?: string[] } = {}): Promise<Approval> {
    return this.authorizer.decide(id, decision, options, (sandbox, policy) => this.setPolicy(sandbox, policy));
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
          refuseRaw(socket, 503, denial("too many connections", null, null, null, `the sandbox has ${state.connections.size} open connections`, "close idle connections and retry"));
          return;
        }
        const conn: Tracked = { sandbox, caller, socket, uses: new Map(), linked: new Set() };
        this.tracked.set(socket, conn);
        this.deadlines.watch(socket);
        state.connections.add(conn);
        socket.once("close", () => {
          state.connections.delete(conn);
          for (const linked of conn.linked) linked.destroy();
        });
        if (rest.length > 0) socket.unshift(rest);
        this.server.emit("connection", socket);
        socket.resume();
      },
      (error: Error) => {
        refuseRaw(socket, 400, denial("bad preamble", null, null, null, error.message, "connect through the sandbox's proxy at 127.0.0.1:3128"));
      },
    );
  }

  private destroy(conn: Tracked): void {
    conn.socket.destroy();
    for (const linked of conn.linked) linked.destroy();
  }

  private record(conn: Tracked, input: Omit<AuditInput, "sandbox" | "caller">): void {
    this.sandboxes.get(conn.sandbox)?.audit.write({ sandbox: conn.sandbox, caller: conn.caller, ...input });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.approvals.cancelAll();
    for (const state of this.sandboxes.values()) {
      for (const conn of state.connections) this.destroy(conn);
    }
    this.server.closeAllConnections();
    this.terminator.close();
    this.upstream.close();
    await Promise.all([...this.sandboxes.values()].map((s) => s.audit.close()));
  }
}

/** Creates the egress gateway. The daemon registers sandboxes with `addSandbox` and hands each proxy-socket connection to `handle`. */
export function createEgressGateway(options: EgressGatewayOptions = {}): EgressGateway {
  return new EgressGateway(options);
}
