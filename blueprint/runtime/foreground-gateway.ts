// `sandbox.gateway`, in the foreground: what `openclaw nemoclaw <name> gateway` runs and what the
// operator's `openclaw gateway` becomes (src/launch/): the gateway sandbox started, its port
// relayed to the host's loopback, its output streamed here, its exit code ours.
import type { AddressInfo } from "node:net";
import type { SandboxDriver } from "../sandbox/driver.js";
import { sandboxContainerName } from "../sandbox/container-spec.js";
import { hostClientHint } from "../sandbox/gateway-inside.js";
import { RuntimeError } from "../state/runtime-error.js";
import { RELAY_HOST, startHostRelay } from "./gateway-relay.js";
import type { Request } from "./protocol.js";
import { restoreSandboxes } from "./restore.js";

/**
 * What stops a foreground verb. SIGHUP too: the terminal went away. OpenClaw's own gateway has no
 * SIGHUP handler, so on the host it would just die; here the host process must not, or the
 * sandbox would outlive it with the relay gone and the exit code lost. So SIGHUP stops the
 * sandbox like SIGTERM, and its exit code comes back.
 */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/**
 * OpenClaw's gateway restarts in process on SIGUSR2 (`docs/cli/gateway/running.md`). Node's
 * default for it would end this process; instead it goes to the container (tini, then the
 * supervisor, pass it on to the gateway), and this process keeps relaying.
 */
const RESTART_SIGNAL = "SIGUSR2";

/**
 * Streaming, in the foreground: the gateway sandbox started, its port on the host's loopback, its
 * output here. SIGINT/SIGTERM/SIGHUP stop the sandbox (`docker stop`: tini and the supervisor pass
 * SIGTERM on to the gateway); the sandbox's exit code comes back as ours. The signals are taken
 * from the first moment, so one that arrives while the sandbox is starting stops it once started.
 */
export async function foregroundGateway(driver: SandboxDriver, req: Extract<Request, { command: "sandbox.gateway" }>): Promise<{ exitCode: number }> {
  let started = false;
  let stopRequested = false;
  let stopping: Promise<unknown> | undefined;
  const stop = (): void => {
    stopRequested = true;
    if (started) stopping ??= driver.stop(req.name).catch(() => undefined);
  };
  const restart = (): void => {
    if (started && !stopping) void driver.docker.getContainer(sandboxContainerName(req.name)).kill({ signal: RESTART_SIGNAL }).catch(() => undefined);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  process.on(RESTART_SIGNAL, restart);
  let relay: Awaited<ReturnType<typeof startHostRelay>> | undefined;
  try {
    const record = await driver.registry.get(req.name);
    if (!record.gateway) {
      throw new RuntimeError("not-a-gateway-sandbox", `sandbox ${req.name} does not run OpenClaw's gateway`, "create one with `openclaw nemoclaw sandbox create <name> --gateway`");
    }
    await driver.start(req.name);
    started = true;
    if (stopRequested) stop();
    relay = await startHostRelay(driver.gatewaySocket(req.name), req.port);
    const port = (relay.address() as AddressInfo).port;
    process.stderr.write(`nemoclaw: gateway of sandbox ${req.name} on http://${RELAY_HOST}:${port} (relayed into the sandbox; Ctrl-C stops it)\n`);
    process.stderr.write(hostClientHint(req.stateDir, req.name, port).map((line) => `nemoclaw: ${line}\n`).join(""));
    // The installed service runs this at boot: the other sandboxes that should be up come back
    // too (restore.ts), without holding up this one's gateway.
    void restoreSandboxes(driver, { command: "sandboxes.restore", stateDir: req.stateDir, ...(req.dockerHost ? { dockerHost: req.dockerHost } : {}), readyTimeoutMs: 0 }, () => undefined, [req.name]).then(
      (r) => {
        for (const s of r.sandboxes) if (s.outcome !== "already-running") process.stderr.write(`nemoclaw: sandbox ${s.name}: ${s.outcome}${s.error ? ` (${s.error.message})` : ""}\n`);
      },
      (e: Error) => process.stderr.write(`nemoclaw: the other sandboxes were not brought back: ${e.message}\n`),
    );
    const abort = new AbortController();
    // This run of the container only: a stopped sandbox's log still holds its earlier runs.
    const startedAt = Date.parse((await driver.docker.getContainer(sandboxContainerName(req.name)).inspect()).State.StartedAt);
    const since = Number.isFinite(startedAt) ? Math.floor(startedAt / 1000) : undefined;
    const logs = driver
      .logs(req.name, { follow: true, ...(since ? { since } : {}), stdout: process.stdout, stderr: process.stderr, signal: abort.signal })
      .catch(() => undefined);
    const exitCode = await driver.wait(req.name);
    abort.abort();
    await logs;
    return { exitCode };
  } finally {
    await stopping;
    relay?.close();
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
    process.off(RESTART_SIGNAL, restart);
  }
}
