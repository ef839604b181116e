// The control API's credential and inference routes, transport-free: a zod schema for each
// request and answer, and a handler over the host's stores. The daemon mounts them under
// /credentials/* and /inference/* on its 0600 socket; when no daemon runs, the runtime calls the
// same handlers in-process (inference-call.ts), so `credentials add` works before any sandbox
// exists. Both stores are files re-read when they change, so a write from either place is seen
// by the daemon on the next request. No answer ever carries a secret.
import { stat } from "node:fs/promises";
import { z } from "zod";
import { AddCredentialInputSchema, BindingSchema, CredentialKindSchema, CredentialNameSchema, listCredentialKinds } from "../credentials/index.js";
import type { CredentialStore } from "../credentials/store.js";
import { inferenceLogFile, InferenceEventSchema, readInferenceEvents } from "../inference/audit.js";
import { openclawProviderEntries } from "../inference/openclaw-config.js";
import { listProviders, ProviderKindSchema } from "../inference/providers/index.js";
import { routeBaseUrl, routeCredential, RouteSchema, type RouteStore } from "../inference/route.js";
import { sandboxRecordFile } from "../state/paths.js";
import { RuntimeError } from "../state/runtime-error.js";
import { SandboxNameSchema } from "../state/sandbox-name.js";

export interface InferenceServices {
  stateDir: string;
  credentials: CredentialStore;
  routes: RouteStore;
  /** After a route changed: the daemon's router drops its cached copy. */
  reload(sandbox: string): void;
}

const Failure = z.strictObject({ ok: z.literal(false), error: z.string(), message: z.string(), hint: z.string().optional() });
const ok = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ok: z.literal(true), ...shape });

const CredentialSummarySchema = z.strictObject({
  name: z.string(),
  kind: CredentialKindSchema,
  bindings: z.array(BindingSchema),
  fingerprint: z.string(),
  addedAt: z.string(),
});

export const CredentialsAddRequest = AddCredentialInputSchema;
export const CredentialsAddResult = ok({ credential: CredentialSummarySchema, replaced: z.boolean() });
export const CredentialsListRequest = z.strictObject({});
export const CredentialsListResult = ok({
  credentials: z.array(CredentialSummarySchema),
  kinds: z.array(z.strictObject({ kind: CredentialKindSchema, label: z.string(), envVar: z.string(), defaultBindings: z.array(BindingSchema) })),
});
export const CredentialsRemoveRequest = z.strictObject({ name: CredentialNameSchema });
export const CredentialsRemoveResult = ok({ removed: z.string() });

export const ProvidersRequest = z.strictObject({});
export const ProvidersResult = ok({
  providers: z.array(
    z.strictObject({
      kind: ProviderKindSchema,
      label: z.string(),
      shape: z.enum(["openai", "anthropic"]),
      defaultBaseUrl: z.string().nullable(),
      key: z.enum(["required", "optional", "none"]),
      defaultCredential: z.string().nullable(),
      note: z.string().nullable(),
    }),
  ),
});

export const InferenceSetRequest = z.strictObject({
  sandbox: SandboxNameSchema,
  provider: z.string(),
  model: z.string(),
  baseUrl: z.string().optional(),
  credential: z.string().optional(),
  allowPrivate: z.boolean().optional(),
});
const RouteView = z.strictObject({
  route: RouteSchema,
  /** The base URL requests go to (the route's or its provider's default). */
  baseUrl: z.string(),
  credential: z.strictObject({ name: z.string(), stored: z.boolean(), fingerprint: z.string().nullable() }).nullable(),
  /** The OpenClaw provider entry the sandbox's config makes primary for this route's shape. */
  primary: z.string(),
});
export const InferenceSetResult = ok({
  sandbox: z.string(),
  ...RouteView.shape,
  warnings: z.array(z.string()),
  /** A gateway sandbox's OpenClaw config followed the route (added by the runtime, not the daemon). */
  gatewayConfig: z.enum(["updated", "unchanged", "at-next-start", "no-gateway"]).optional(),
});
export const InferenceGetRequest = z.strictObject({ sandbox: SandboxNameSchema });
export const InferenceGetResult = ok({ sandbox: z.string(), current: RouteView.nullable() });
export const InferenceLogsRequest = z.strictObject({ sandbox: SandboxNameSchema, limit: z.number().int().positive().max(100_000).default(200) });
export const InferenceLogsResult = ok({ events: z.array(InferenceEventSchema) });

export const Answers = {
  "credentials/add": z.union([CredentialsAddResult, Failure]),
  "credentials/list": z.union([CredentialsListResult, Failure]),
  "credentials/remove": z.union([CredentialsRemoveResult, Failure]),
  "inference/providers": z.union([ProvidersResult, Failure]),
  "inference/set": z.union([InferenceSetResult, Failure]),
  "inference/get": z.union([InferenceGetResult, Failure]),
  "inference/logs": z.union([InferenceLogsResult, Failure]),
} as const;
export type InferenceRoute = keyof typeof Answers;
export const INFERENCE_ROUTES = Object.keys(Answers) as InferenceRoute[];

async function assertSandbox(stateDir: string, sandbox: string): Promise<void> {
  if (await stat(sandboxRecordFile(stateDir, sandbox)).then(() => true, () => false)) return;
  throw new RuntimeError("sandbox-not-found", `no sandbox named "${sandbox}"`, "`openclaw nemoclaw sandbox list` shows them; create one with `openclaw nemoclaw sandbox create <name>`");
}

async function view(s: InferenceServices, route: z.infer<typeof RouteSchema>): Promise<z.infer<typeof RouteView>> {
  const name = routeCredential(route);
  const stored = name === undefined ? undefined : (await s.credentials.list()).find((c) => c.name === name);
  return {
    route,
    baseUrl: routeBaseUrl(route),
    credential: name === undefined ? null : { name, stored: stored !== undefined, fingerprint: stored?.fingerprint ?? null },
    primary: openclawProviderEntries(route).primary,
  };
}

type Handler = (s: InferenceServices, body: never) => Promise<unknown>;

const HANDLERS: Record<InferenceRoute, { request: z.ZodType; handle: Handler }> = {
  "credentials/add": {
    request: CredentialsAddRequest,
    handle: async (s, body: z.infer<typeof CredentialsAddRequest>) => ({ ok: true, ...(await s.credentials.add(body)) }),
  },
  "credentials/list": {
    request: CredentialsListRequest,
    handle: async (s) => ({ ok: true, credentials: await s.credentials.list(), kinds: listCredentialKinds() }),
  },
  "credentials/remove": {
    request: CredentialsRemoveRequest,
    handle: async (s, body: z.infer<typeof CredentialsRemoveRequest>) => {
      await s.credentials.remove(body.name);
      return { ok: true, removed: body.name };
    },
  },
  "inference/providers": { request: ProvidersRequest, handle: async () => ({ ok: true, providers: listProviders() }) },
  "inference/set": {
    request: InferenceSetRequest,
    handle: async (s, body: z.infer<typeof InferenceSetRequest>) => {
      await assertSandbox(s.stateDir, body.sandbox);
      const { sandbox, ...input } = body;
      const { route, warnings } = await s.routes.set(sandbox, input as Parameters<RouteStore["set"]>[1]);
      s.reload(sandbox);
      return { ok: true, sandbox, ...(await view(s, route)), warnings };
    },
  },
  "inference/get": {
    request: InferenceGetRequest,
    handle: async (s, body: z.infer<typeof InferenceGetRequest>) => {
      await assertSandbox(s.stateDir, body.sandbox);
      const route = await s.routes.get(body.sandbox);
      return { ok: true, sandbox: body.sandbox, current: route === undefined ? null : await view(s, route) };
    },
  },
  "inference/logs": {
    request: InferenceLogsRequest,
    handle: async (s, body: z.infer<typeof InferenceLogsRequest>) => {
      await assertSandbox(s.stateDir, body.sandbox);
      const events = await readInferenceEvents(inferenceLogFile(s.stateDir, body.sandbox));
      return { ok: true, events: events.slice(-body.limit) };
    },
  },
};

/** Runs one route: the body is validated here, and every failure becomes an `{ok:false}` answer. */
export async function callInferenceRoute(s: InferenceServices, route: InferenceRoute, body: unknown): Promise<unknown> {
  const { request, handle } = HANDLERS[route];
  const parsed = request.safeParse(body);
  if (!parsed.success) {
    // Never echo the input: it may hold a secret.
    const issue = parsed.error.issues[0];
    return { ok: false, error: "bad-request", message: `${issue?.path.join(".") || "(request)"}: ${issue?.message ?? "invalid"}`, hint: "check the arguments (`openclaw nemoclaw credentials --help`, `openclaw nemoclaw inference providers`)" };
  }
  try {
    return await handle(s, parsed.data as never);
  } catch (e) {
    if (e instanceof RuntimeError) return { ok: false, error: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) };
    throw e;
  }
}

/** Mounts every route on the daemon's control API (POST, JSON). */
export function mountInferenceRoutes(router: { addRoute(method: string, path: string, handler: (body: unknown) => unknown, schema?: z.ZodType): void }, s: InferenceServices): void {
  for (const route of INFERENCE_ROUTES) {
    // The body is validated by callInferenceRoute, which answers `{ok:false}` without echoing it.
    router.addRoute("POST", `/${route}`, (body) => callInferenceRoute(s, route, body), z.unknown());
  }
}
