// What onboarding needs from launch interception (src/launch/, src/cli/gateway.ts):
//   startGateway: the sandboxed gateway up in the background, as `openclaw nemoclaw start` does
//     (runtime request gateway.start: the daemon relays 127.0.0.1:<port> into the sandbox);
//   enableLaunch: the plugin-config switch that makes the operator's `openclaw gateway` run inside
//     this sandbox, the only change onboarding makes to the operator's OpenClaw config.
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { gatewayPort } from "../launch/argv.js";
import { enableLaunch as writeLaunchSwitch } from "../launch/enable.js";
import { readOperatorConfig } from "./operator-config.js";

export type AdapterOutcome = { changed: boolean; detail: string };
export type StartOutcome = AdapterOutcome & { port: number };

/**
 * The port the operator's OpenClaw uses for its gateway (OPENCLAW_GATEWAY_PORT > gateway.port >
 * 18789): where their CLI looks for it, so where the relay goes unless --port says otherwise.
 */
export async function operatorGatewayPort(): Promise<number> {
  const { config } = await readOperatorConfig();
  return gatewayPort([], process.env, (config.gateway as { port?: unknown } | undefined)?.port);
}

export async function startGateway(config: ResolvedConfig, name: string, port: number, onProgress: (message: string) => void): Promise<StartOutcome> {
  const r = await runBlueprint(
    { command: "gateway.start", stateDir: config.stateDir, ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}), name, port, readyTimeoutMs: 300_000 },
    (p) => p.GatewayStartResultSchema,
    { onProgress: (p) => onProgress(p.message) },
  );
  const where = `${r.url} (relayed into the sandbox; loopback only)`;
  if (r.alreadyRunning && r.ready) return { changed: false, port: r.port, detail: `already running on ${where}` };
  return { changed: true, port: r.port, detail: `${r.ready ? "ready" : "started, not answering yet"} on ${where}` };
}

/**
 * Launch goes (or already went) to this sandbox when none is set up yet, or it is this one. A
 * second sandbox does not take the operator's gateway from the first: that stays an explicit
 * `launch enable`.
 */
export function takesLaunch(launch: { sandbox: string } | undefined, name: string): boolean {
  return launch === undefined || launch.sandbox === name;
}

export async function enableLaunch(config: ResolvedConfig, name: string): Promise<AdapterOutcome> {
  const current = config.launch;
  if (current?.sandbox === name && current.enabled) return { changed: false, detail: `\`openclaw gateway\` already runs inside ${name}` };
  if (current !== undefined && !takesLaunch(current, name)) {
    return { changed: false, detail: `\`openclaw gateway\` runs inside ${current.sandbox}${current.enabled ? "" : " (disabled)"}; to move it here: openclaw nemoclaw launch enable ${name}` };
  }
  if (current !== undefined && !current.enabled) {
    return { changed: false, detail: `launch is disabled on purpose (the gateway runs on the host); to sandbox it: openclaw nemoclaw launch enable ${name}` };
  }
  await writeLaunchSwitch(name);
  return { changed: true, detail: `\`openclaw gateway\` (and the installed service) now run inside ${name}` };
}
