// The inference verbs: `inference providers` (what the router can reach), `<name> inference
// set|get` (the sandbox's route: provider, model, base URL, which stored key), and `<name> logs
// --inference` (one line per call: provider, model, status, latency, tokens; never prompts).
import type { z } from "zod";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { UserError } from "../errors.js";
import { unprinted, type FollowCursor } from "./log-follow.js";
import { printJson, renderFields } from "./output.js";

type Protocol = typeof import("../../blueprint/runtime/protocol.js");
type Routes = Protocol["InferenceRoutes"];
type Route = (typeof import("../../blueprint/runtime/protocol.js"))["INFERENCE_CALL_ROUTES"][number];
type View = NonNullable<z.infer<Routes["InferenceGetResult"]>["current"]>;
type Event = z.infer<Routes["InferenceLogsResult"]>["events"][number];

/** One `inference.call` to the runtime (the daemon's credential and inference routes). */
export function runInferenceCall<T>(config: ResolvedConfig, route: Route, body: Record<string, unknown>, schema: (r: Routes) => z.ZodType<T>): Promise<T> {
  return runBlueprint({ command: "inference.call", stateDir: config.stateDir, ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}), route, body }, (p) => schema(p.InferenceRoutes));
}

export async function inferenceProviders(config: ResolvedConfig, opts: { json?: boolean }): Promise<void> {
  const { providers } = await runInferenceCall(config, "inference/providers", {}, (r) => r.ProvidersResult);
  if (opts.json) {
    printJson({ providers });
    return;
  }
  const lines = ["Inference providers", ""];
  for (const p of providers) {
    const key = p.key === "none" ? "no key" : `${p.key === "required" ? "key" : "optional key"}${p.defaultCredential ? ` (credential "${p.defaultCredential}")` : ""}`;
    lines.push(`  ${p.kind}: ${p.label}, ${p.shape}-shaped, ${p.defaultBaseUrl ?? "--base-url required"}, ${key}${p.note ? `; ${p.note}` : ""}`);
  }
  lines.push("", "  Next: openclaw nemoclaw <sandbox> inference set --provider <kind> --model <id> [--base-url URL] [--credential NAME]");
  process.stdout.write(`${lines.join("\n")}\n`);
}

function viewFields(v: View): Array<[string, string]> {
  const r = v.route;
  const credential = v.credential === null ? "none needed" : `${v.credential.name} (${v.credential.stored ? `stored, fingerprint ${v.credential.fingerprint}` : "NOT STORED: run `openclaw nemoclaw credentials add`"})`;
  return [
    ["Provider", r.provider],
    ["Model", r.model],
    ["Base URL", `${v.baseUrl}${r.allowPrivate ? " (private address allowed)" : ""}`],
    ["Credential", credential],
    ["OpenClaw model", v.primary],
    ["Updated", r.updatedAt],
  ];
}

/** What `inference set` did to a gateway sandbox's OpenClaw config. */
const GATEWAY_CONFIG_STATE = {
  updated: "primary model switched in the sandbox's gateway config (hot-reloaded, no restart)",
  unchanged: "the sandbox's gateway config already names this shape's provider entry",
  "at-next-start": "the sandbox is stopped: its gateway config follows when it starts",
} as const;

export async function inferenceSet(
  config: ResolvedConfig,
  sandbox: string,
  opts: { provider?: string; model?: string; baseUrl?: string; credential?: string; allowPrivate?: boolean; json?: boolean },
): Promise<void> {
  if (opts.provider === undefined || opts.model === undefined) {
    throw new UserError(`openclaw nemoclaw ${sandbox} inference set needs --provider and --model`, `e.g. openclaw nemoclaw ${sandbox} inference set --provider ollama --model qwen3:8b (kinds: openclaw nemoclaw inference providers)`);
  }
  const body = {
    sandbox,
    provider: opts.provider,
    model: opts.model,
    ...(opts.baseUrl === undefined ? {} : { baseUrl: opts.baseUrl }),
    ...(opts.credential === undefined ? {} : { credential: opts.credential }),
    ...(opts.allowPrivate ? { allowPrivate: true } : {}),
  };
  const r = await runInferenceCall(config, "inference/set", body, (x) => x.InferenceSetResult);
  if (opts.json) {
    printJson(r);
    return;
  }
  const followed = r.gatewayConfig === undefined || r.gatewayConfig === "no-gateway" ? [] : [["OpenClaw config", GATEWAY_CONFIG_STATE[r.gatewayConfig]] as [string, string]];
  const text = renderFields(`Inference route of ${sandbox} set (in force on its next request)`, [...viewFields(r), ...followed]);
  process.stdout.write(`${text}\n${r.warnings.map((w) => `\n  Warning: ${w}`).join("")}\n`);
}

export async function inferenceGet(config: ResolvedConfig, sandbox: string, opts: { json?: boolean }): Promise<void> {
  const r = await runInferenceCall(config, "inference/get", { sandbox }, (x) => x.InferenceGetResult);
  if (opts.json) {
    printJson(r);
    return;
  }
  if (r.current === null) {
    process.stdout.write(`Inference route of ${sandbox}\n\n  Route: none (requests to inference.local get 503 no_route)\n\n  Next: openclaw nemoclaw ${sandbox} inference set --provider <kind> --model <id>\n`);
    return;
  }
  process.stdout.write(`${renderFields(`Inference route of ${sandbox}`, viewFields(r.current))}\n`);
}

export function renderInferenceEvent(e: Event): string {
  const tokens = e.tokens === undefined ? "" : ` tokens ${e.tokens.input ?? "?"}/${e.tokens.output ?? "?"}`;
  const ttft = e.ttftMs === undefined ? "" : ` ttft ${Math.round(e.ttftMs)}ms`;
  const what = `${e.provider ?? "-"}/${e.model ?? "-"}`;
  return `${e.time} ${e.outcome.toUpperCase()} ${e.status} ${e.endpoint} -> ${what}${e.stream ? " stream" : ""} ${Math.round(e.latencyMs)}ms${ttft}${tokens} up ${e.bytesUp}B down ${e.bytesDown}B${e.reason ? ` [${e.reason}]` : ""}`;
}

export async function inferenceLogs(config: ResolvedConfig, sandbox: string, opts: { follow?: boolean; json?: boolean; limit?: number }): Promise<void> {
  let cursor: FollowCursor | undefined;
  for (;;) {
    const { events } = await runInferenceCall(config, "inference/logs", { sandbox, limit: 100_000 }, (x) => x.InferenceLogsResult);
    const next = unprinted(events, cursor, opts.limit ?? 200, (e) => e.time);
    cursor = next.cursor;
    for (const e of next.fresh) process.stdout.write(`${opts.json ? JSON.stringify(e) : renderInferenceEvent(e)}\n`);
    if (!opts.follow) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
