import type net from "node:net";

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
