import type net from "node:net";
import type { ControlRouter } from "../control/router.js";
import type { InternalHandler, PlaceholderSource } from "./gateway-context.js";

/**
 * What the host runtime plugs behind each sandbox's proxy socket. The daemon accepts a connection on
 * `<stateDir>/sandboxes/<name>/run/proxy.sock` (mounted at /run/nemoclaw/proxy.sock inside) and hands
 * the raw socket over; the handler reads the caller preamble (caller-preamble.ts) and then speaks
 * HTTP proxy (absolute-form or CONNECT) on the rest of the stream.
 */
export interface EgressHandler {
  handle(sandbox: string, socket: net.Socket): void;
  close(): Promise<void>;
}

/** What the daemon gives the egress gateway when it creates it. */
export interface EgressContext {
  stateDir: string;
  /** The control API (HTTP over <stateDir>/control.sock, 0600): add approval/policy routes here. */
  router: ControlRouter;
  /** `<stateDir>/sandboxes/<name>/policy.yaml`, the sandbox's policy as created or last applied. */
  policyFile(sandbox: string): string;
  /** Sandboxes the daemon serves right now. */
  sandboxes(): string[];
  /** Names the runtime answers in-process (`inference.local` → the inference router). */
  internalHandlers?: Record<string, InternalHandler>;
  /** The host's credentials, for placeholder substitution. */
  credentials?: PlaceholderSource;
  log(message: string): void;
}

/**
 * The gateway's entry point. The daemon imports `blueprint/gateway/egress-gateway.ts` (compiled:
 * dist/blueprint/gateway/egress-service.js) when it exists and calls its exported
 * `createEgressHandler(context)`; without that module every sandbox gets `refuseAllEgress()`.
 */
export type EgressHandlerFactory = (context: EgressContext) => EgressHandler | Promise<EgressHandler>;
