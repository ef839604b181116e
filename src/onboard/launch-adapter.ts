// ─── ADAPTER: wired at merge to the "launch" branch ──────────────────────────────────────────
// Two things onboarding needs from launch interception, which another branch builds:
//   startGateway(name): bring the sandboxed gateway up the way `openclaw nemoclaw start [name]`
//     does (runtime request `gateway.start {name, port}`), and
//   enableLaunch(name): record in the plugin config that `openclaw gateway` on this host runs in
//     that sandbox (the only change onboarding makes to the operator's OpenClaw config).
// Until then startGateway starts the sandbox, whose workload already is the gateway (health then
// checks it answers through the relay socket), and enableLaunch only says what it would do.
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";

export type AdapterOutcome = { changed: boolean; detail: string };

export async function startGateway(config: ResolvedConfig, name: string, onProgress: (message: string) => void): Promise<AdapterOutcome> {
  const r = await runBlueprint(
    { command: "sandbox.start", stateDir: config.stateDir, ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}), name },
    (p) => p.SandboxStartResultSchema,
    { onProgress: (p) => onProgress(p.message) },
  );
  if (r.alreadyRunning) return { changed: false, detail: "the sandbox and its gateway were already running" };
  return { changed: true, detail: r.recreated ? "container recreated from state and started" : "started" };
}

export async function enableLaunch(_config: ResolvedConfig, name: string): Promise<AdapterOutcome> {
  return { changed: false, detail: `launch interception is not wired yet: start the gateway with \`openclaw nemoclaw ${name} gateway\`` };
}
// ─── end ADAPTER ─────────────────────────────────────────────────────────────────────────────
