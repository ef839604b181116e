// `sandboxes.restore`, the bare `openclaw nemoclaw start`: brings back every sandbox of the state
// dir that should be up, after a daemon crash, a dockerd restart or a reboot. "Should be up" is
// the operator's last word (sandbox/intent.ts): every sandbox not stopped on purpose, and the
// launch (or default) sandbox in any case, as a bare `start` always started it. Each comes back
// the way `<name> start` brings one back (driver.start: run dir and CA again, the daemon serving
// its proxy socket, the container started or recreated from the record with its /sandbox
// volume); a gateway sandbox that had a background relay gets it on the same port. Policy,
// approvals and inference routes are files in the state dir: the daemon reads them again.
// One sandbox failing does not stop the others; each result says what happened.
import type { Request, RestoreResult } from "./protocol.js";
import { RuntimeError } from "../state/runtime-error.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import { readIntent, recordIntent } from "../sandbox/intent.js";
import { gatewayStart, waitReady } from "./gateway-background.js";
import type { Progress } from "./handlers.js";

type Req = Extract<Request, { command: "sandboxes.restore" }>;
type Restored = RestoreResult["sandboxes"][number];

async function restoreOne(driver: SandboxDriver, req: Req, name: string, progress: Progress): Promise<Restored> {
  const say: Progress = (step, message, percent) => progress(step, `${name}: ${message}`, percent);
  const launch = name === req.launch;
  try {
    const record = await driver.registry.get(name);
    const intent = await readIntent(req.stateDir, name);
    if (intent.wanted === "stopped" && !launch) {
      say("skip", "stopped on purpose; left stopped");
      return { name, outcome: "left-stopped", gateway: null, error: null };
    }
    if (record.gateway && (intent.relayPort !== null || launch)) {
      const base = { command: "gateway.start" as const, stateDir: req.stateDir, ...(req.dockerHost ? { dockerHost: req.dockerHost } : {}), name };
      const r = await gatewayStart(driver, { ...base, readyTimeoutMs: 0 }, say);
      return { name, outcome: r.alreadyRunning ? "already-running" : r.recreated ? "recreated" : "started", gateway: { port: r.port, url: r.url, ready: false }, error: null };
    }
    const r = await driver.start(name, say);
    if (launch) await recordIntent(req.stateDir, name, { wanted: "running" });
    return { name, outcome: r.alreadyRunning ? "already-running" : r.recreated ? "recreated" : "started", gateway: null, error: null };
  } catch (e) {
    const error = e instanceof RuntimeError ? { message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { message: (e as Error).message };
    say("failed", error.message);
    return { name, outcome: "failed", gateway: null, error };
  }
}

/** `except`: sandboxes the caller brings up itself (the foreground gateway's own). */
export async function restoreSandboxes(driver: SandboxDriver, req: Req, progress: Progress, except: readonly string[] = []): Promise<RestoreResult> {
  await driver.assertDocker();
  const all = await driver.registry.names();
  if (all.length === 0) {
    throw new RuntimeError("no-sandboxes", `there are no sandboxes in ${driver.stateDir}`, "create one with `openclaw nemoclaw onboard` or `openclaw nemoclaw sandbox create <name>`");
  }
  const names = all.filter((n) => !except.includes(n));
  // One at a time: starts share the engine and the daemon. The gateways then get ready together.
  const sandboxes: Restored[] = [];
  for (const name of names) sandboxes.push(await restoreOne(driver, req, name, progress));
  const relayed = sandboxes.filter((s) => s.gateway !== null);
  if (relayed.length > 0 && req.readyTimeoutMs > 0) {
    progress("ready", `waiting for ${relayed.map((s) => `${s.name} on ${s.gateway?.url}`).join(", ")}`);
    await Promise.all(
      relayed.map(async (s) => {
        try {
          if (s.gateway) s.gateway.ready = await waitReady(driver, s.name, s.gateway.url, req.readyTimeoutMs);
        } catch (e) {
          s.outcome = "failed";
          s.error = e instanceof RuntimeError ? { message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { message: (e as Error).message };
        }
      }),
    );
  }
  return { sandboxes };
}
