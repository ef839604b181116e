// A sandbox's inference route: `<stateDir>/sandboxes/<name>/inference.json`. `set` validates
// everything a request would trip over later (provider, base URL, address class, credential),
// so a bad route is refused when it is set, with what to do, rather than at the sandbox's first
// model call. `get` costs one stat while the file is unchanged, so a `set` from another process
// (the CLI) is seen by the daemon on the very next request.
import * as realFs from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";
import { CredentialStore } from "../credentials/store.js";
import { CredentialNameSchema } from "../credentials/schema.js";
import { blockedRange, canonicalAddress, neverAllowed } from "../gateway/hard-blocks.js";
import { RuntimeError } from "../state/runtime-error.js";
// The sandbox-name rule; moves to state/sandbox-name.ts with the layout refactor.
import { SandboxNameSchema } from "../state/sandbox-name.js";
import { sandboxDir } from "../state/paths.js";
import { StateFile } from "../state/state-file.js";
import { getProvider, ProviderKindSchema, type ProviderKind } from "./providers/index.js";

/** A model name is an opaque id (`qwen3:8b`, `meta/llama-3.1-8b-instruct`), never a URL. */
export const ModelNameSchema = z
  .string()
  .min(1, "the model name is empty")
  .max(256)
  .regex(/^[^\s\x00-\x1f\x7f]+$/, "a model name has no spaces or control characters")
  .refine((m) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(m), "a model name is not a URL");

export const RouteOptionsSchema = z.strictObject({
  /** Longest silence from the upstream, between bytes, before the call is abandoned. Default 300 s. */
  idleTimeoutMs: z.number().int().min(1).max(24 * 3600 * 1000).optional(),
  /** The model `/v1/embeddings` uses; without it the sandbox's choice passes. */
  embeddingModel: ModelNameSchema.optional(),
  /** Models the sandbox may pick by name; any other name is rewritten to the route's model. */
  allowedModels: z.array(ModelNameSchema).optional(),
  /** What the sandbox's OpenClaw config advertises for the routed model. */
  contextWindow: z.number().int().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
});

const RouteFieldsSchema = z.strictObject({
  version: z.literal(1),
  provider: ProviderKindSchema,
  model: ModelNameSchema,
  baseUrl: z.url().optional(),
  credential: CredentialNameSchema.optional(),
  /** A base URL on a private or link-local address was accepted on purpose. */
  allowPrivate: z.boolean().optional(),
  options: RouteOptionsSchema.default({}),
  updatedAt: z.string(),
});

/**
 * After a switch between an OpenAI-shaped and an Anthropic-shaped provider, the sandbox's
 * OpenClaw still sends the old shape until it has reloaded its rewritten config (the rewrite
 * runs right after the route is stored, then OpenClaw's watcher applies it after its debounce).
 * For that long, at most, a request in the old shape goes to the previous route rather than
 * failing; the new shape goes to the new route from the first request.
 */
export const SHAPE_SWITCH_GRACE_MS = 15_000;

export const RouteSchema = RouteFieldsSchema.extend({
  /** The route before a switch of shape, and until when a request in its shape may still use it. */
  previous: z.strictObject({ route: RouteFieldsSchema, until: z.string() }).optional(),
});
export type Route = z.infer<typeof RouteSchema>;

export const SetRouteInputSchema = z.strictObject({
  provider: ProviderKindSchema,
  model: ModelNameSchema,
  baseUrl: z.string().optional(),
  credential: CredentialNameSchema.optional(),
  allowPrivate: z.boolean().optional(),
  options: RouteOptionsSchema.optional(),
});
export type SetRouteInput = z.input<typeof SetRouteInputSchema>;

export function routeFile(stateDir: string, sandbox: string): string {
  return path.join(sandboxDir(stateDir, sandbox), "inference.json");
}

/** The base URL the route reaches: its own, or its provider's default. */
export function routeBaseUrl(route: Pick<Route, "provider" | "baseUrl">): string {
  const url = route.baseUrl ?? getProvider(route.provider).defaultBaseUrl;
  if (url === undefined) throw new RuntimeError("route-invalid", `the ${route.provider} route has no base URL`, "set it again with --base-url");
  return url;
}

/** The credential a route uses: its own, or the provider's default name; none when the provider needs none. */
export function routeCredential(route: Pick<Route, "provider" | "credential">): string | undefined {
  const p = getProvider(route.provider);
  if (route.credential !== undefined) return route.credential;
  return p.key === "required" ? p.credentialKinds[0] : undefined;
}

/**
 * Which address classes a base URL may reach. Loopback is first-class (the router runs on the
 * host, where Ollama and friends listen); private and link-local need `allowPrivate`; the
 * metadata and unspecified addresses never. Applied at set time to IP literals and at connect
 * time to whatever a name resolved to.
 */
export function checkUpstreamAddress(address: string, allowPrivate: boolean): { ok: true } | { ok: false; reason: string } {
  const canonical = canonicalAddress(address);
  if (neverAllowed(canonical)) return { ok: false, reason: `${canonical} is the ${blockedRange(canonical)} address, which the router never reaches` };
  const range = blockedRange(canonical);
  if (range === undefined || range === "loopback" || allowPrivate) return { ok: true };
  return { ok: false, reason: `${canonical} is ${range}; set the route again with --allow-private if that server is yours` };
}

const ROUTE_HINT = (sandbox: string) => `run \`openclaw nemoclaw ${sandbox} inference set --provider <kind> --model <id>\``;

export class RouteStore {
  readonly #stateDir: string;
  readonly #credentials: CredentialStore;
  readonly #cache = new Map<string, { key: string; route: Route | undefined }>();

  constructor(stateDir: string, credentials: CredentialStore = new CredentialStore(stateDir)) {
    this.#stateDir = stateDir;
    this.#credentials = credentials;
  }

  /** The sandbox's route, or undefined when none was set. */
  async get(sandbox: string): Promise<Route | undefined> {
    const name = this.#name(sandbox);
    const file = routeFile(this.#stateDir, name);
    let key: string;
    try {
      const s = await realFs.stat(file, { bigint: true });
      key = `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      key = "missing";
    }
    const cached = this.#cache.get(name);
    if (cached?.key === key) return cached.route;
    const route = await new StateFile<Route | undefined>(file, RouteSchema).read(() => undefined, ROUTE_HINT(name));
    this.#cache.set(name, { key, route });
    return route;
  }

  /** Forget what was read for a sandbox (or all): the control route calls this after a set. */
  reload(sandbox?: string): void {
    if (sandbox === undefined) this.#cache.clear();
    else this.#cache.delete(sandbox);
  }

  /** Validates and stores a route; errors say what to change. */
  async set(sandbox: string, input: SetRouteInput): Promise<{ route: Route; warnings: string[] }> {
    const name = this.#name(sandbox);
    const parsed = SetRouteInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.map(String).join(".") ?? "";
      throw new RuntimeError("route-invalid", `cannot set the inference route: ${where === "" ? "" : `${where}: `}${issue?.message ?? "invalid"}`, "see `openclaw nemoclaw inference providers`");
    }
    const { provider, model, credential, allowPrivate } = parsed.data;
    const spec = getProvider(provider);
    const warnings: string[] = [];
    const baseUrl = parsed.data.baseUrl === undefined ? undefined : this.#checkBaseUrl(parsed.data.baseUrl, provider, allowPrivate === true);
    if (baseUrl === undefined && spec.defaultBaseUrl === undefined) {
      throw new RuntimeError("route-invalid", `the ${provider} provider has no default address`, `give its base URL with --base-url (${spec.note ?? "http(s)://host:port/…"})`);
    }
    if (spec.key === "none" && credential !== undefined) warnings.push(`${spec.label} takes no key; the credential "${credential}" will not be sent`);
    const credentialName = routeCredential({ provider, credential });
    if (credentialName !== undefined && spec.key !== "none") {
      const stored = await this.#credentials.get(credentialName);
      if (stored === undefined) {
        throw new RuntimeError(
          "credential-not-found",
          `${spec.label} needs a key, and no credential named "${credentialName}" is stored`,
          `run \`openclaw nemoclaw credentials add ${credentialName} --from-env ${credentialName === "openai" ? "OPENAI_API_KEY" : "VAR"}\`, or pass --credential NAME`,
        );
      }
      if (spec.credentialKinds.length > 0 && !spec.credentialKinds.includes(stored.kind)) {
        warnings.push(`the credential "${credentialName}" is a ${stored.kind} credential, not ${spec.credentialKinds.join(" or ")}`);
      }
    }
    const current = await this.get(name).catch(() => undefined);
    const { previous: _older, ...currentFields } = current ?? { previous: undefined };
    const shapeSwitched = current !== undefined && getProvider(current.provider).shape !== spec.shape;
    const route: Route = RouteSchema.parse({
      ...(shapeSwitched ? { previous: { route: currentFields, until: new Date(Date.now() + SHAPE_SWITCH_GRACE_MS).toISOString() } } : {}),
      version: 1,
      provider,
      model,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(credential === undefined ? {} : { credential }),
      ...(allowPrivate === true ? { allowPrivate } : {}),
      options: parsed.data.options ?? {},
      updatedAt: new Date().toISOString(),
    });
    await new StateFile(routeFile(this.#stateDir, name), RouteSchema).write(route);
    this.reload(name);
    return { route, warnings };
  }

  #name(sandbox: string): string {
    const parsed = SandboxNameSchema.safeParse(sandbox);
    if (!parsed.success) throw new RuntimeError("invalid-sandbox-name", `"${sandbox}" is not a sandbox name`, parsed.error.issues[0]?.message);
    return parsed.data;
  }

  #checkBaseUrl(text: string, provider: ProviderKind, allowPrivate: boolean): string {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new RuntimeError("route-invalid", `the base URL "${text}" is not a URL`, "give it as http(s)://host[:port]/path");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new RuntimeError("route-invalid", `the base URL must be http or https, not ${url.protocol}`, "give it as http(s)://host[:port]/path");
    if (url.username !== "" || url.password !== "") {
      throw new RuntimeError("route-invalid", "the base URL carries credentials", "store the key with `openclaw nemoclaw credentials add` and pass --credential NAME");
    }
    if (url.search !== "" || url.hash !== "") throw new RuntimeError("route-invalid", "the base URL has a query or fragment", "give only scheme, host, port and path");
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0) {
      const verdict = checkUpstreamAddress(host, allowPrivate);
      if (!verdict.ok) throw new RuntimeError("route-address-blocked", `the ${provider} base URL ${text}: ${verdict.reason}`);
    }
    return url.toString().replace(/\/+$/, "");
  }
}
