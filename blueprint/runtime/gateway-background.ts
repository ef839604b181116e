// `gateway.start` / `gateway.stop`: a gateway sandbox in the background. The sandbox runs under
// Docker and the daemon holds its relay listener (relay-routes.ts), so both outlive this call;
// gateway.stop ends both. The foreground twin is sandbox.gateway (handlers.ts).
import type { Request } from "./protocol.js";
import { RuntimeError } from "../state/runtime-error.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import { readIntent, recordIntent } from "../sandbox/intent.js";
import { ControlError, controlRequest, daemonHealth, ensureDaemon } from "./daemon-client.js";
import { RELAY_HOST } from "./gateway-relay.js";
import type { Progress } from "./handlers.js";

/**
 * Polls the relayed gateway's /readyz until it answers 200; false when `timeoutMs` passes first.
 * A sandbox that stops meanwhile ends the wait with why it stopped.
 */
export async function waitReady(driver: SandboxDriver, name: string, url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status, () => 0);
    if (status === 200) return true;
    if ((await driver.containerState(name).catch(() => "running")) !== "running") {
      throw new RuntimeError("gateway-exited", `the gateway inside ${name} stopped before it answered (${await driver.stopReason(name)})`, `see \`openclaw nemoclaw ${name} logs\`, then start it again`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** The relay's port when none is given: the one it had last time, else OpenClaw's default. */
export const DEFAULT_RELAY_PORT = 18789;

export async function gatewayStart(driver: SandboxDriver, req: Extract<Request, { command: "gateway.start" }>, progress: Progress) {
  const record = await driver.registry.get(req.name);
  if (!record.gateway) {
    throw new RuntimeError("not-a-gateway-sandbox", `sandbox ${req.name} does not run OpenClaw's gateway`, "create one with `openclaw nemoclaw sandbox create <name> --gateway`");
  }
  const port = req.port ?? (await readIntent(req.stateDir, req.name)).relayPort ?? DEFAULT_RELAY_PORT;
  progress("sandbox", `starting sandbox ${req.name}`);
  const { alreadyRunning, recreated } = await driver.start(req.name, progress);
  await ensureDaemon(req.stateDir);
  let opened: { port: number };
  try {
    opened = (await controlRequest(req.stateDir, "POST", "/relays/open", { name: req.name, port })) as { port: number };
  } catch (e) {
    if (e instanceof ControlError && e.status === 409) {
      throw new RuntimeError("port-in-use", e.message, "stop what listens there (a host OpenClaw gateway?) or pick another port with --port");
    }
    throw e;
  }
  // Kept for a bare `start` after a restart or reboot: the relay comes back on this port.
  await recordIntent(req.stateDir, req.name, { wanted: "running", relayPort: opened.port });
  const url = `http://${RELAY_HOST}:${opened.port}`;
  progress("ready", `waiting for the gateway on ${url}`);
  const ready = req.readyTimeoutMs > 0 && (await waitReady(driver, req.name, url, req.readyTimeoutMs));
  return { name: req.name, port: opened.port, url, ready, alreadyRunning, recreated };
}

export async function gatewayStop(driver: SandboxDriver, req: Extract<Request, { command: "gateway.stop" }>) {
  await driver.registry.get(req.name);
  const relayClosed = (await daemonHealth(req.stateDir))
    ? ((await controlRequest(req.stateDir, "POST", "/relays/close", { name: req.name })) as { closed: boolean }).closed
    : false;
  const { wasRunning } = await driver.stop(req.name);
  await recordIntent(req.stateDir, req.name, { wanted: "stopped" });
  return { name: req.name, wasRunning, relayClosed };
}
