// Which model providers a gateway sandbox's OpenClaw config carries: derived from its inference
// route, here in the runtime because the sandbox layer may not import the router. The driver
// asks for them when it seeds the config and after every start; `inference set` asks it to
// rewrite a running sandbox's config (the gateway hot-applies `models` and `agents`).
import { openclawProviderEntries } from "../inference/openclaw-config.js";
import { RouteStore } from "../inference/route.js";
import type { GatewayModels } from "../sandbox/gateway-models.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import { RuntimeError } from "../state/runtime-error.js";

/** The driver's `gatewayModels` option for a state dir: none until the sandbox has a route. */
export function gatewayModelsFor(stateDir: string): (name: string) => Promise<GatewayModels | undefined> {
  const routes = new RouteStore(stateDir);
  return async (name) => {
    const route = await routes.get(name);
    return route === undefined ? undefined : openclawProviderEntries(route);
  };
}

/**
 * After `inference set`: a running gateway sandbox's config follows the route. Answers what
 * happened, for the verb to say (a stopped sandbox catches up when it starts).
 */
export async function followRoute(driver: SandboxDriver, name: string): Promise<{ gatewayConfig: "updated" | "unchanged" | "at-next-start" | "no-gateway" }> {
  const record = await driver.registry.get(name);
  if (!record.gateway) return { gatewayConfig: "no-gateway" };
  try {
    const { changed, live } = await driver.syncGatewayModels(name);
    return { gatewayConfig: !live ? "at-next-start" : changed ? "updated" : "unchanged" };
  } catch (e) {
    if (!(e instanceof RuntimeError)) throw e;
    // The route is in force for the router already; only the gateway's primary lags behind.
    throw new RuntimeError(e.code, `the route is saved, but ${name}'s gateway config was not updated: ${e.message}`, e.hint ?? "run `inference set` again once the sandbox runs");
  }
}
