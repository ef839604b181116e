// The daemon's side of `openclaw nemoclaw start|stop` (gateway.start / gateway.stop): it owns the
// host relay listeners of gateway sandboxes that run in the background, so they outlive the CLI
// call that opened them. A relay is 127.0.0.1:<port> piped to the sandbox's relay socket
// (gateway-relay.ts); the daemon closes them all when it shuts down.
import type { AddressInfo } from "node:net";
import type net from "node:net";
import { z } from "zod";
import { SandboxNameSchema } from "../state/sandbox-name.js";
import { RuntimeError } from "../state/runtime-error.js";
import { RouteError, type ControlRouter } from "../control/router.js";
import { gatewaySocketFile } from "../sandbox/gateway-inside.js";
import { startHostRelay } from "./gateway-relay.js";

export const RelayOpenBody = z.object({ name: SandboxNameSchema, port: z.number().int().min(0).max(65535) }).strict();
export const RelayCloseBody = z.object({ name: SandboxNameSchema }).strict();
export const RelaySchema = z.object({ name: z.string(), port: z.number().int() }).strict();
export const RelayListSchema = z.object({ relays: z.array(RelaySchema) }).strict();

export type Relays = { closeOne: (name: string) => Promise<boolean>; close: () => Promise<void> };

/** Mounts /relays (GET), /relays/open and /relays/close on the daemon's control socket. */
export function mountRelayRoutes(router: ControlRouter, stateDir: string, log: (m: string) => void): Relays {
  const relays = new Map<string, net.Server>();
  const portOf = (server: net.Server) => (server.address() as AddressInfo).port;
  const close = async (name: string): Promise<boolean> => {
    const server = relays.get(name);
    if (!server) return false;
    relays.delete(name);
    server.close();
    log(`relay for ${name} closed`);
    return true;
  };
  router.addRoute("GET", "/relays", () => ({ relays: [...relays].map(([name, server]) => ({ name, port: portOf(server) })) }));
  router.addRoute(
    "POST",
    "/relays/open",
    async ({ name, port }) => {
      const existing = relays.get(name);
      if (existing && (port === 0 || portOf(existing) === port)) return { name, port: portOf(existing), alreadyOpen: true };
      await close(name);
      let server: net.Server;
      try {
        server = await startHostRelay(gatewaySocketFile(stateDir, name), port);
      } catch (e) {
        if (e instanceof RuntimeError) throw new RouteError(409, e.message, e.hint);
        throw e;
      }
      relays.set(name, server);
      log(`relay for ${name} on 127.0.0.1:${portOf(server)}`);
      return { name, port: portOf(server), alreadyOpen: false };
    },
    RelayOpenBody,
  );
  router.addRoute("POST", "/relays/close", async ({ name }) => ({ name, closed: await close(name) }), RelayCloseBody);
  return {
    closeOne: close,
    close: async () => {
      for (const name of [...relays.keys()]) await close(name);
    },
  };
}
