// `openclaw nemoclaw start|stop|restart [name]`: the sandboxed gateway in the background — what
// `openclaw gateway run` does in the foreground once launch is enabled. The runtime requests are
// gateway.start / gateway.stop (blueprint/runtime/gateway-background.ts); the daemon owns the relay.
import type { GatewayStartResult, GatewayStopResult } from "../../blueprint/runtime/protocol.js";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { UserError } from "../errors.js";
import { printJson, renderFields } from "./output.js";
import { checkName, progressPrinter } from "./sandbox.js";

export type GatewayOpts = { port?: string; json?: boolean };

/** The sandbox a bare `start` means: the one launch is set up for, else defaultSandbox. */
function target(config: ResolvedConfig, name: string | undefined): string {
  return checkName(name ?? config.launch?.sandbox ?? config.defaultSandbox, []);
}

function parsePort(value: string | undefined): number {
  const port = value === undefined ? 18789 : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port ${value}: not a TCP port`, "give e.g. 18789 (0: any free port)");
  return port;
}

const base = (config: ResolvedConfig, name: string) => ({ stateDir: config.stateDir, ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}), name });

async function start(config: ResolvedConfig, name: string, opts: GatewayOpts): Promise<GatewayStartResult> {
  return runBlueprint({ command: "gateway.start", ...base(config, name), port: parsePort(opts.port), readyTimeoutMs: 300_000 }, (p) => p.GatewayStartResultSchema, {
    onProgress: progressPrinter(opts.json),
  });
}

async function stop(config: ResolvedConfig, name: string): Promise<GatewayStopResult> {
  return runBlueprint({ command: "gateway.stop", ...base(config, name) }, (p) => p.GatewayStopResultSchema);
}

function printStarted(r: GatewayStartResult, json: boolean | undefined): void {
  if (json) return printJson({ ok: true, ...r });
  process.stdout.write(
    `${renderFields(`Gateway of sandbox ${r.name}: ${r.ready ? "ready" : "started, not answering yet"}`, [
      ["URL", `${r.url} (relayed into the sandbox; loopback only)`],
      ["Stop", `openclaw nemoclaw stop ${r.name}`],
    ])}\n`,
  );
  if (!r.ready) process.exitCode = 1;
}

export async function gatewayStartVerb(config: ResolvedConfig, name: string | undefined, opts: GatewayOpts): Promise<void> {
  printStarted(await start(config, target(config, name), opts), opts.json);
}

export async function gatewayStopVerb(config: ResolvedConfig, name: string | undefined, opts: GatewayOpts): Promise<void> {
  const r = await stop(config, target(config, name));
  if (opts.json) printJson({ ok: true, ...r });
  else process.stdout.write(`Gateway of sandbox ${r.name}: ${r.wasRunning || r.relayClosed ? "stopped" : "was not running"}\n`);
}

export async function gatewayRestartVerb(config: ResolvedConfig, name: string | undefined, opts: GatewayOpts): Promise<void> {
  const sandbox = target(config, name);
  await stop(config, sandbox);
  printStarted(await start(config, sandbox, opts), opts.json);
}
