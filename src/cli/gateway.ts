// `openclaw nemoclaw start|stop|restart [name]`: the sandboxed gateway in the background — what
// `openclaw gateway run` does in the foreground once launch is enabled. The runtime requests are
// gateway.start / gateway.stop (blueprint/runtime/gateway-background.ts); the daemon owns the relay.
// A bare `start` is sandboxes.restore (blueprint/runtime/restore.ts): every sandbox that should be up.
import type { GatewayStartResult, GatewayStopResult, RestoreResult } from "../../blueprint/runtime/protocol.js";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { UserError } from "../errors.js";
import { printJson, renderFields } from "./output.js";
import { checkName, progressPrinter } from "./sandbox.js";

export type GatewayOpts = { port?: string; json?: boolean };

/** The sandbox a bare `stop`/`restart` means: the one launch is set up for, else defaultSandbox. */
function target(config: ResolvedConfig, name: string | undefined): string {
  const chosen = name ?? config.launch?.sandbox ?? config.defaultSandbox;
  if (chosen === undefined) throw new UserError("which sandbox?", "name it (`openclaw nemoclaw stop <name>`), or enable launch for one (`openclaw nemoclaw launch enable <name>`)");
  return checkName(chosen, []);
}

/** Undefined: the port the relay had last time, else 18789 (the runtime knows). */
function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port ${value}: not a TCP port`, "give e.g. 18789 (0: any free port)");
  return port;
}

const base = (config: ResolvedConfig, name: string) => ({ stateDir: config.stateDir, ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}), name });

async function start(config: ResolvedConfig, name: string, opts: GatewayOpts): Promise<GatewayStartResult> {
  const port = parsePort(opts.port);
  return runBlueprint({ command: "gateway.start", ...base(config, name), ...(port === undefined ? {} : { port }), readyTimeoutMs: 300_000 }, (p) => p.GatewayStartResultSchema, {
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

function describeRestored(s: RestoreResult["sandboxes"][number]): string {
  const gateway = s.gateway ? `; gateway ${s.gateway.ready ? "ready" : "not answering yet"} on ${s.gateway.url}` : "";
  switch (s.outcome) {
    case "started":
      return `started${gateway}`;
    case "recreated":
      return `container recreated from its record, /sandbox volume kept${gateway}`;
    case "already-running":
      return `already running${gateway}`;
    case "left-stopped":
      return `left stopped (stopped on purpose; \`openclaw nemoclaw ${s.name} start\` starts it)`;
    case "failed":
      return `FAILED: ${s.error?.message ?? "unknown error"}${s.error?.hint ? ` (next: ${s.error.hint})` : ""}`;
  }
}

/**
 * Bare `start`: every sandbox that should be up (runtime/restore.ts), e.g. after a reboot. With
 * a name, or with --port (which names the launch sandbox's relay), one gateway sandbox as before.
 */
export async function gatewayStartVerb(config: ResolvedConfig, name: string | undefined, opts: GatewayOpts): Promise<void> {
  if (name !== undefined || opts.port !== undefined) return printStarted(await start(config, target(config, name), opts), opts.json);
  const launch = config.launch?.sandbox ?? config.defaultSandbox;
  const r = await runBlueprint(
    { command: "sandboxes.restore", stateDir: config.stateDir, ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}), ...(launch ? { launch: checkName(launch, []) } : {}), readyTimeoutMs: 300_000 },
    (p) => p.RestoreResultSchema,
    { onProgress: progressPrinter(opts.json) },
  );
  const ok = r.sandboxes.every((s) => s.outcome !== "failed" && (s.gateway === null || s.gateway.ready));
  if (!ok) process.exitCode = 1;
  if (opts.json) return printJson({ ok, ...r });
  const up = r.sandboxes.filter((s) => s.outcome !== "failed" && s.outcome !== "left-stopped").length;
  process.stdout.write(`${renderFields(`Sandboxes: ${up} of ${r.sandboxes.length} up`, r.sandboxes.map((s) => [s.name, describeRestored(s)] as const))}\n`);
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
