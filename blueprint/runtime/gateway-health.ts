// `gateway.health`: is a gateway sandbox actually serving? Two checks, each the way real clients
// go. The gateway: `GET /readyz` over the sandbox's relay socket (what `<name> gateway` pipes the
// host's loopback port to), polled until ready or the container stops. Inference: a process
// inside, started through the launcher like any workload command, makes one minimal model call
// to `http://inference.local` through the forwarder and the proxy socket (inference-probe.ts), so
// the policy, the gateway, the router and the provider (with the stored key) all have to agree.
import http from "node:http";
import { getProvider } from "../inference/providers/index.js";
import { RouteStore } from "../inference/route.js";
import { RuntimeError } from "../state/runtime-error.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import { inferenceProbeProgram, readInferenceProbe, type InferenceProbe } from "./inference-probe.js";

export type GatewayHealth = {
  gateway: { ready: boolean; status: number | null; waitedMs: number; detail: string };
  inference: InferenceProbe;
};

/** One GET over a Unix socket; status 0 when nothing answered. */
function getOverSocket(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path, host: "127.0.0.1", timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

export async function gatewayHealth(driver: SandboxDriver, stateDir: string, name: string, timeoutMs: number, progress: (m: string) => void): Promise<GatewayHealth> {
  const record = await driver.registry.get(name);
  if (!record.gateway) {
    throw new RuntimeError("not-a-gateway-sandbox", `sandbox ${name} does not run OpenClaw's gateway`, "create one with `openclaw nemoclaw sandbox create <name> --gateway`");
  }
  const socket = driver.gatewaySocket(name);
  const started = Date.now();
  progress("waiting for the gateway inside to answer /readyz on its relay socket");
  let status = 0;
  for (;;) {
    status = await getOverSocket(socket, "/readyz");
    if (status === 200) break;
    const info = (await driver.list().catch(() => [])).find((s) => s.name === name);
    if (info && info.state !== "running") {
      return {
        gateway: { ready: false, status: status || null, waitedMs: Date.now() - started, detail: `the sandbox is ${info.state} (${await driver.stopReason(name)}): see \`openclaw nemoclaw ${name} logs\`` },
        inference: { ok: false, status: null, models: [], detail: "not checked: the gateway is not running" },
      };
    }
    if (Date.now() - started > timeoutMs) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const waitedMs = Date.now() - started;
  const gateway =
    status === 200
      ? { ready: true, status, waitedMs, detail: `GET /readyz answered 200 after ${(waitedMs / 1000).toFixed(1)} s` }
      : { ready: false, status: status || null, waitedMs, detail: status ? `GET /readyz answered ${status}` : "nothing answered on the relay socket" };

  progress("making one minimal model call to inference.local from a process inside");
  const route = await new RouteStore(stateDir).get(name);
  const shape = route === undefined ? undefined : getProvider(route.provider).shape;
  const run = await driver.execCapture(name, ["/usr/local/bin/node", "-e", inferenceProbeProgram({ shape })]);
  const inference = readInferenceProbe(run.stdout, run.exitCode, run.stderr);
  return { gateway, inference };
}
