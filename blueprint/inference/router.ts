// The inference router: the host-side answer to `http://inference.local` for every sandbox.
// The egress gateway hands it requests the policy allowed, with the sandbox they came from;
// it picks that sandbox's route (re-read when the file changed), forwards to the route's base
// URL with the real key, and streams the answer back chunk by chunk. A request can never choose
// the destination: the path must be one of the endpoints, and the host is always the route's.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { CredentialStore } from "../credentials/store.js";
import { KINDS } from "../credentials/kinds.js";
import { SandboxNameSchema } from "../state/sandbox-name.js";
import { InferenceAuditLog, inferenceLogFile, type InferenceEvent, type RotationOptions } from "./audit.js";
import { classifyRequest, ROUTER_HOST, type ClientShape, type Endpoint } from "./endpoints.js";
import { errorBody, hintFor, scrubSecrets, sendError, upstreamMessage } from "./errors.js";
import { modelsList, STABLE_MODEL_ID } from "./openclaw-config.js";
import { getProvider, type ProviderSpec } from "./providers/index.js";
import { checkUpstreamAddress, ModelNameSchema, routeCredential, RouteStore, type Route } from "./route.js";
import { guardedLookup, responseHeaders, upstreamHeaders, upstreamUrl, type Resolve } from "./upstream.js";
import { UsageMeter } from "./usage.js";

export interface InferenceRouterOptions {
  stateDir: string;
  credentials?: CredentialStore;
  routes?: RouteStore;
  /** Default idle gap (ms) between upstream bytes before a call is abandoned; routes may override. Default 300 000. */
  idleTimeoutMs?: number;
  /** Largest request body accepted. Default 32 MiB (images travel base64-encoded). */
  maxBodyBytes?: number;
  /** Host names answered besides inference.local. */
  hosts?: readonly string[];
  audit?: RotationOptions;
  /** How upstream names are resolved before the address rule; default dns.lookup (tests answer from a map, never DNS). */
  resolve?: Resolve;
}

const MAX_ERROR_BODY = 256 * 1024;

interface Call {
  sandbox: string;
  started: number;
  endpoint: string;
  clientShape: ClientShape;
  route: Route | undefined;
  model: string | null;
  stream: boolean;
  bytesUp: number;
  bytesDown: number;
  ttftMs?: number;
}

export class InferenceRouter {
  readonly routes: RouteStore;
  readonly credentials: CredentialStore;
  readonly #stateDir: string;
  readonly #idleTimeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #hosts: readonly string[];
  readonly #auditOptions: RotationOptions;
  readonly #resolve: Resolve | undefined;
  readonly #audits = new Map<string, InferenceAuditLog>();
  readonly #httpAgent = new http.Agent({ keepAlive: true, scheduling: "lifo" });
  readonly #httpsAgent = new https.Agent({ keepAlive: true, scheduling: "lifo" });
  readonly #inFlight = new Set<ServerResponse>();

  constructor(options: InferenceRouterOptions) {
    this.#stateDir = options.stateDir;
    this.credentials = options.credentials ?? new CredentialStore(options.stateDir);
    this.routes = options.routes ?? new RouteStore(options.stateDir, this.credentials);
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.#maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.#hosts = [ROUTER_HOST, ...(options.hosts ?? [])];
    this.#auditOptions = options.audit ?? {};
    this.#resolve = options.resolve;
  }

  /** Drop the cached route so the next request reads the file (the control route calls this after `inference set`). */
  reload(sandbox?: string): void {
    this.routes.reload(sandbox);
  }

  /** The audit log of one sandbox (created on first use). */
  audit(sandbox: string): InferenceAuditLog {
    let log = this.#audits.get(sandbox);
    if (log === undefined) {
      log = new InferenceAuditLog(inferenceLogFile(this.#stateDir, sandbox), this.#auditOptions);
      this.#audits.set(sandbox, log);
    }
    return log;
  }

  /** Answers one request from `sandbox`; resolves when the response is over (finished or cut). */
  async handle(sandbox: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call: Call = { sandbox, started: performance.now(), endpoint: "-", clientShape: "openai", route: undefined, model: null, stream: false, bytesUp: 0, bytesDown: 0 };
    this.#inFlight.add(res);
    res.once("close", () => this.#inFlight.delete(res));
    res.socket?.setNoDelay(true);
    if (!SandboxNameSchema.safeParse(sandbox).success) {
      req.resume();
      sendError(res, "openai", 400, "invalid_sandbox", "the request did not come from a known sandbox");
      return;
    }
    const classified = classifyRequest(req.method ?? "", req.url ?? "", req.headers, this.#hosts);
    if (!classified.ok) {
      req.resume();
      call.clientShape = classified.clientShape;
      this.#refuse(call, res, classified.status, classified.code, classified.message);
      return;
    }
    const { endpoint, query } = classified;
    call.endpoint = endpoint.path;
    call.clientShape = endpoint.id === "models" && req.headers["anthropic-version"] !== undefined ? "anthropic" : endpoint.shape;

    let route: Route | undefined;
    try {
      route = await this.routes.get(sandbox);
    } catch (e) {
      req.resume();
      const err = e as { message: string; hint?: string };
      this.#refuse(call, res, 500, "route_unreadable", `${err.message}${err.hint === undefined ? "" : `; ${err.hint}`}`);
      return;
    }
    if (route === undefined) {
      req.resume();
      this.#refuse(call, res, 503, "no_route", `sandbox ${sandbox} has no inference route; run \`openclaw nemoclaw ${sandbox} inference set --provider <kind> --model <id>\``);
      return;
    }
    call.route = route;
    let spec = getProvider(route.provider);

    if (endpoint.id === "models") {
      req.resume();
      const body = JSON.stringify(modelsList(route, call.clientShape === "anthropic" ? "anthropic" : "openai"));
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      call.bytesDown = Buffer.byteLength(body);
      this.#record(call, "ok", 200);
      return;
    }
    const accepts = (provider: typeof spec): boolean => (endpoint.shape === "ollama" ? provider.nativeOllama === true : endpoint.shape === provider.shape);
    const previous = route.previous;
    if (!accepts(spec) && previous !== undefined && Date.parse(previous.until) > Date.now() && accepts(getProvider(previous.route.provider))) {
      // Just after a switch of shape: OpenClaw has not reloaded its config yet (route.ts).
      route = previous.route;
      call.route = route;
      spec = getProvider(route.provider);
    }
    if (!accepts(spec)) {
      req.resume();
      const want = spec.shape === "openai" ? "/v1/chat/completions, /v1/responses, /v1/completions, /v1/embeddings" : "/v1/messages";
      this.#refuse(call, res, 400, "route_shape_mismatch", `sandbox ${sandbox}'s inference route is ${spec.shape}-shaped (${route.provider}/${route.model}): send ${want}, or switch with \`openclaw nemoclaw ${sandbox} inference set\``);
      return;
    }

    // The real key, read now: the call keeps it (and its route) whatever changes meanwhile.
    const credentialName = spec.key === "none" ? undefined : routeCredential(route);
    let secret: string | undefined;
    let envVar: string | undefined;
    if (credentialName !== undefined) {
      const stored = await this.credentials.get(credentialName).catch(() => undefined);
      secret = stored?.secret;
      envVar = KINDS[stored?.kind ?? (spec.credentialKinds[0] ?? "generic")].envVar || undefined;
      if (secret === undefined && spec.key === "required") {
        req.resume();
        this.#refuse(call, res, 503, "credential_missing", `the ${spec.label} key "${credentialName}" is not stored on the host; run \`openclaw nemoclaw credentials add ${credentialName} --from-env ${envVar ?? "VAR"}\``);
        return;
      }
    }

    const body = await this.#readBody(req, res, call);
    if (body === undefined) return;
    const rewritten = this.#rewriteBody(body, endpoint, route);
    if (!rewritten.ok) {
      this.#refuse(call, res, 400, rewritten.code, rewritten.message);
      return;
    }
    call.model = rewritten.model;
    call.stream = rewritten.stream;

    const url = upstreamUrl(route, endpoint, query);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0) {
      const verdict = checkUpstreamAddress(host, route.allowPrivate === true);
      if (!verdict.ok) {
        this.#refuse(call, res, 502, "route_address_blocked", `the route's base URL: ${verdict.reason}`, "unreachable");
        return;
      }
    }
    const payload = Buffer.from(JSON.stringify(rewritten.body));
    call.bytesUp = payload.length;
    await this.#forward(call, req, res, { spec, url, payload, secret, hint: { sandbox, providerLabel: spec.label, provider: route.provider, model: rewritten.model, credential: credentialName, envVar } });
  }

  async #readBody(req: IncomingMessage, res: ServerResponse, call: Call): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    const ok = await new Promise<boolean>((resolve) => {
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= this.#maxBodyBytes) chunks.push(c);
      });
      req.once("end", () => resolve(true));
      req.once("error", () => resolve(false));
      res.once("close", () => resolve(false));
    });
    if (!ok) {
      this.#record(call, "client_closed", 499);
      return undefined;
    }
    if (size > this.#maxBodyBytes) {
      this.#refuse(call, res, 413, "request_too_large", `the request body is over ${this.#maxBodyBytes} bytes`);
      return undefined;
    }
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed;
    } catch {
      // below
    }
    this.#refuse(call, res, 400, "invalid_json", "the request body must be a JSON object");
    return undefined;
  }

  #rewriteBody(raw: unknown, endpoint: Endpoint, route: Route): { ok: true; body: Record<string, unknown>; model: string; stream: boolean } | { ok: false; code: string; message: string } {
    const body = { ...(raw as Record<string, unknown>) };
    const asked = body.model;
    if (asked !== undefined) {
      const valid = ModelNameSchema.safeParse(asked);
      if (!valid.success) return { ok: false, code: "invalid_model", message: `model: ${valid.error.issues[0]?.message ?? "invalid"}; the router sends every request to the sandbox's route` };
    }
    let model: string;
    if (endpoint.id === "embeddings") {
      const chosen = route.options.embeddingModel ?? (typeof asked === "string" ? asked : undefined);
      if (chosen === undefined) return { ok: false, code: "invalid_model", message: "an embeddings request needs a model" };
      model = chosen;
    } else {
      // The sandbox asks for the stable id (or anything): the route decides, unless it allows that name.
      model = typeof asked === "string" && asked !== STABLE_MODEL_ID && route.options.allowedModels?.includes(asked) === true ? asked : route.model;
    }
    body.model = model;
    return { ok: true, body, model, stream: body.stream === true };
  }

  #forward(
    call: Call,
    req: IncomingMessage,
    res: ServerResponse,
    up: { spec: ProviderSpec; url: URL; payload: Buffer; secret: string | undefined; hint: Parameters<typeof hintFor>[1] },
  ): Promise<void> {
    const route = call.route as Route;
    const idleMs = route.options.idleTimeoutMs ?? this.#idleTimeoutMs;
    const secrets = up.secret === undefined ? [] : [up.secret];
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (outcome: InferenceEvent["outcome"], status: number, extra: { reason?: string; tokens?: InferenceEvent["tokens"] } = {}): void => {
        if (done) return;
        done = true;
        clearTimeout(idle);
        this.#record(call, outcome, status, extra);
        resolve();
      };
      const client = (up.url.protocol === "https:" ? https : http).request(up.url, {
        method: "POST",
        headers: upstreamHeaders(up.spec, req.headers, up.secret, up.payload.length),
        agent: up.url.protocol === "https:" ? this.#httpsAgent : this.#httpAgent,
        lookup: guardedLookup(route.allowPrivate === true, this.#resolve),
      });
      const idle = setTimeout(() => {
        client.destroy();
        if (!res.headersSent) {
          sendError(res, call.clientShape, 504, "upstream_idle_timeout", `${up.spec.label} sent nothing for ${Math.round(idleMs / 1000)} s; the call was abandoned`);
        } else {
          res.destroy();
        }
        finish("idle_timeout", 504, { reason: `no bytes from upstream for ${idleMs} ms` });
      }, idleMs);
      client.on("socket", (s) => s.setNoDelay(true));
      // The sandbox hung up: stop the provider generating (and billing) for nobody.
      res.once("close", () => {
        if (done) return;
        client.destroy();
        finish("client_closed", 499, { reason: "the client disconnected" });
      });
      client.on("error", (e: NodeJS.ErrnoException) => {
        if (done) return;
        const why = e.code === "EROUTEBLOCKED" ? e.message : e.code === "ECONNREFUSED" ? "connection refused; is the server running?" : e.message;
        const message = `cannot reach ${up.spec.label} at ${up.url.origin}: ${scrubSecrets(why, secrets)}`;
        if (!res.headersSent) sendError(res, call.clientShape, 502, "upstream_unreachable", message);
        else res.destroy();
        finish("unreachable", 502, { reason: message });
      });
      client.on("response", (upstream) => {
        idle.refresh();
        const status = upstream.statusCode ?? 502;
        if (status >= 400) {
          const parts: Buffer[] = [];
          let size = 0;
          upstream.on("data", (c: Buffer) => {
            idle.refresh();
            size += c.length;
            if (size <= MAX_ERROR_BODY) parts.push(c);
          });
          upstream.once("end", () => {
            if (done) return;
            const said = scrubSecrets(upstreamMessage(Buffer.concat(parts).toString("utf8")) ?? "", secrets);
            const message = `${status} from ${up.spec.label}${said === "" ? "" : `: ${said}`} (${hintFor(status, up.hint)})`;
            const body = errorBody(call.clientShape, status, "upstream_error", message);
            call.bytesDown = Buffer.byteLength(body);
            res.writeHead(status, { "content-type": "application/json", "content-length": call.bytesDown });
            res.end(body);
            finish("upstream_error", status, { reason: `${status} from ${up.spec.label}` });
          });
          upstream.once("error", () => {
            res.destroy();
            finish("unreachable", 502, { reason: "the upstream connection broke" });
          });
          return;
        }
        res.writeHead(status, responseHeaders(upstream.headers));
        res.flushHeaders();
        const meter = new UsageMeter(upstream.headers["content-type"]);
        upstream.on("data", (chunk: Buffer) => {
          idle.refresh();
          call.ttftMs ??= performance.now() - call.started;
          call.bytesDown += chunk.length;
          meter.push(chunk);
          if (!res.write(chunk)) {
            upstream.pause();
            res.once("drain", () => upstream.resume());
          }
        });
        upstream.once("end", () => {
          if (done) return;
          res.end();
          const tokens = meter.end();
          finish("ok", status, Object.keys(tokens).length === 0 ? {} : { tokens });
        });
        upstream.once("error", () => {
          if (done) return;
          res.destroy();
          finish("unreachable", 502, { reason: "the upstream connection broke mid-response" });
        });
      });
      client.end(up.payload);
    });
  }

  #refuse(call: Call, res: ServerResponse, status: number, code: string, message: string, outcome: InferenceEvent["outcome"] = "refused"): void {
    sendError(res, call.clientShape, status, code, message);
    this.#record(call, outcome, status, { reason: `${code}: ${message}` });
  }

  #record(call: Call, outcome: InferenceEvent["outcome"], status: number, extra: { reason?: string; tokens?: InferenceEvent["tokens"] } = {}): void {
    if (!SandboxNameSchema.safeParse(call.sandbox).success) return;
    this.audit(call.sandbox).write({
      time: new Date().toISOString(),
      sandbox: call.sandbox,
      endpoint: call.endpoint,
      provider: call.route?.provider ?? null,
      model: call.model ?? call.route?.model ?? null,
      outcome,
      status,
      ...(extra.reason === undefined ? {} : { reason: extra.reason }),
      stream: call.stream,
      latencyMs: Math.round((performance.now() - call.started) * 1000) / 1000,
      ...(call.ttftMs === undefined ? {} : { ttftMs: Math.round(call.ttftMs * 1000) / 1000 }),
      ...(extra.tokens === undefined ? {} : { tokens: extra.tokens }),
      bytesUp: call.bytesUp,
      bytesDown: call.bytesDown,
    });
  }

  /** Everything audited so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.#audits.values()].map((a) => a.flush()));
  }

  /** Cuts calls still running, closes pooled upstream connections and the audit logs. */
  async close(): Promise<void> {
    for (const res of this.#inFlight) res.destroy();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
    await Promise.all([...this.#audits.values()].map((a) => a.close()));
  }
}

export function createInferenceRouter(options: InferenceRouterOptions): InferenceRouter {
  return new InferenceRouter(options);
}
