// The host side of a sandbox's only way out (the proxy socket in its run dir) is served by the
// runtime's daemon, a layer above this one. The driver says when a sandbox needs it served or
// released, and asks who serves it for status, through this interface; the runtime implements
// it (runtime/daemon-client.ts: daemonEgressPath). Without one, nothing is served: egress stays
// closed, which is the safe way to be wrong.
/**
 * A sandbox on an engine that is not on this host (docs/architecture.md, "Remote engines"): its
 * proxy socket is carried over the engine's exec API instead of a bind mount.
 */
export interface RemoteEngine {
  /** The engine, as the sandbox was created on it (unset: DOCKER_HOST or the local socket). */
  dockerHost?: string | undefined;
  /** Wait this long for the relay inside to listen (the container runs); 0: do not wait. */
  waitReadyMs?: number;
}

export interface EgressPath {
  /** Makes sure the proxy socket of `name` is served (starting whatever serves it), over `remote`'s exec when given. */
  serve(name: string, remote?: RemoteEngine): Promise<void>;
  /** Stops serving `name`; nothing when it is not served. Never fails. */
  release(name: string): Promise<void>;
  /** Who serves `name` now, in words for `status`; undefined when nobody does. */
  describe(name: string): Promise<string | undefined>;
}

export const CLOSED_EGRESS: EgressPath = {
  serve: async () => undefined,
  release: async () => undefined,
  describe: async () => undefined,
};
