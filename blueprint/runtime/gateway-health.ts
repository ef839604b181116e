// `gateway.health`: is a gateway sandbox actually serving? Two checks, each the way real clients
// go. The gateway: `GET /readyz` over the sandbox's relay socket (what `<name> gateway` pipes the
// host's loopback port to), polled until ready or the container stops. Inference: a process
// inside, started through the launcher like any workload command, fetches
// `http://inference.local/v1/models` through the forwarder and the proxy socket, so the policy,
// the gateway and the router all have to agree for it to answer 200.
import http from "node:http";
import { RuntimeError } from "../state/runtime-error.js";
import type { SandboxDriver } from "../sandbox/driver.js";

export type GatewayHealth = {
  gateway: { ready: boolean; status: number | null; waitedMs: number; detail: string };
  inference: { ok: boolean; status: number | null; models: string[]; detail: string };
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

const MODELS_PROBE = `
fetch("http://inference.local/v1/models", { signal: AbortSignal.timeout(60000) })
  .then(async (r) => { const t = await r.text(); console.log(JSON.stringify({ status: r.status, body: t.slice(0, 4000) })); },
        (e) => console.log(JSON.stringify({ error: String(e.cause?.code ?? e.cause?.message ?? e.message) })));
`;

export async function gatewayHealth(driver: SandboxDriver, name: string, timeoutMs: number, progress: (m: string) => void): Promise<GatewayHealth> {
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

  progress("asking inference.local for its models from a process inside");
  const run = await driver.execCapture(name, ["/usr/local/bin/node", "-e", MODELS_PROBE]);
  let inference: GatewayHealth["inference"];
  try {
    const line = run.stdout.trim().split("\n").at(-1) ?? "";
    const reply = JSON.parse(line) as { status?: number; body?: string; error?: string };
    if (reply.status === undefined) {
      inference = { ok: false, status: null, models: [], detail: `the request failed inside: ${reply.error}` };
    } else {
      let models: string[] = [];
      let message = "";
      try {
        const body = JSON.parse(reply.body ?? "{}") as { data?: Array<{ id?: unknown }>; error?: unknown };
        models = (body.data ?? []).map((d) => String(d.id));
        message = typeof body.error === "string" ? body.error : JSON.stringify(body.error ?? "");
      } catch {
        message = (reply.body ?? "").slice(0, 200);
      }
      inference =
        reply.status === 200
          ? { ok: true, status: 200, models, detail: `GET http://inference.local/v1/models answered 200 (${models.join(", ")})` }
          : { ok: false, status: reply.status, models, detail: `GET http://inference.local/v1/models answered ${reply.status}: ${message}` };
    }
  } catch {
    inference = { ok: false, status: null, models: [], detail: `the probe inside exited ${run.exitCode}: ${(run.stderr || run.stdout).trim().slice(0, 300)}` };
  }
  return { gateway, inference };
}
