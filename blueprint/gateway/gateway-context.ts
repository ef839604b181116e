// What every mechanism of the egress gateway shares: the options (with their defaults) and the
// small surface of the gateway core they call back into — the registered sandboxes and the
// audit log. Each mechanism file (authorization, forwarding, tunnels, TLS termination) gets
// this instead of the whole EgressGateway, so none of them can reach the others' state.

import type http from "node:http";
import type { PlaceholderIndex } from "../credentials/substitute.js";
import type { AuditInput, AuditLogOptions } from "./audit.js";
import type { HostMap } from "./hard-blocks.js";
import type { LeafCacheOptions } from "./leaf-cache.js";
import type { SandboxState, Tracked } from "./sandbox-state.js";

export interface EgressGatewayOptions {
  /** name → address(es), consulted before DNS (like curl --resolve). Does not lift hard blocks. */
  hostMap?: HostMap;
  /** How long a request to an unknown destination is held for approval. Default 60 000 ms. */
  approvalTimeoutMs?: number;
  /** Approvals open at once per sandbox; requests that would open more are refused. Default 32. */
  maxPendingApprovalsPerSandbox?: number;
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
  /**
   * Names answered in-process by the runtime (the daemon: `inference.local` → the inference
   * router). The policy and its L7 rules still decide who may reach them; DNS, hard blocks and
   * placeholder substitution do not apply. See InternalHandler.
   */
  internalHandlers?: Record<string, InternalHandler>;
  /** The sandbox's placeholders, for substitution on requests to the endpoints credentials are bound to. */
  credentials?: PlaceholderSource;
  audit?: AuditLogOptions;
  leafCache?: LeafCacheOptions;
}

/**
 * Answers one request the policy allowed to an internal name. `sandbox` is the gateway's own
 * knowledge (the proxy socket the connection came in on), never something the sandbox sent; the
 * request arrives in origin form (`/v1/...`) with `Host` set to the internal name.
 */
export type InternalHandler = (sandbox: string, req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Where the gateway gets a sandbox's placeholders (the daemon's CredentialStore). */
export interface PlaceholderSource {
  placeholderIndex(sandbox: string): Promise<PlaceholderIndex>;
}

/** The "address" recorded for names served in-process: nothing is connected to. */
export const IN_PROCESS = "in-process";

const DEFAULTS = {
  maxConnectionsPerSandbox: 4096,
  approvalTimeoutMs: 60_000,
  maxPendingApprovalsPerSandbox: 32,
  preambleTimeoutMs: 5_000,
  maxHeaderSize: 16 * 1024,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
} satisfies Partial<EgressGatewayOptions>;

export type ResolvedGatewayOptions = EgressGatewayOptions & typeof DEFAULTS;

export function resolveGatewayOptions(options: EgressGatewayOptions): ResolvedGatewayOptions {
  return { ...DEFAULTS, ...options };
}

/** What the mechanisms may ask of the gateway core. */
export interface GatewayContext {
  readonly options: ResolvedGatewayOptions;
  /** The registered sandbox, or undefined once it was removed. */
  sandbox(name: string): SandboxState | undefined;
  /** One audit line for the connection's sandbox (caller filled in). */
  record(conn: Tracked, input: Omit<AuditInput, "sandbox" | "caller">): void;
}

/** The address an internal name stands for (its listener, or IN_PROCESS), or undefined for every other name. */
export function internalAddress(options: ResolvedGatewayOptions, host: string): string | undefined {
  return options.internalHosts?.[host]?.address ?? (options.internalHandlers?.[host] === undefined ? undefined : IN_PROCESS);
}

/** The port we connect to: an internal host's own listener, else the one the sandbox asked for. */
export function upstreamPort(options: ResolvedGatewayOptions, host: string, port: number): number {
  return options.internalHosts?.[host]?.port ?? port;
}
