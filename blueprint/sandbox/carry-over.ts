// The operator's OpenClaw config → the parts of it a gateway sandbox carries (issue #10): agents,
// routing bindings, channel settings, skills settings and model providers. Pure: the runtime
// (runtime/carry-over.ts) reads the file, registers the secrets found here as host credentials,
// derives their placeholders and calls this again with them; the result is merged into the
// sandbox's own config inside (carry-over-config.ts).
//
// What is carried, and how it is made safe:
// - channel tokens OpenClaw sends to a known service (Telegram, Slack, Discord bot tokens) become
//   placeholders of host credentials bound to that service's hosts; the egress gateway swaps the
//   real value back only there;
// - every model provider points at inference.local with the router's placeholder key (the router
//   adds the real key); per-agent model choices are kept where the route can serve them;
// - workspaces move under /sandbox/workspace (the tools' only writable folder).
// What is not: every other secret-looking value (no endpoint to bind it to), SecretRefs (no
// secret provider inside), host paths, per-agent sandbox/runtime/cwd/tool-allow settings, and
// the sections that are nemoclaw's own inside (gateway, tools, plugins, proxy). Each one dropped
// is listed with why, so onboarding can say so.
import { TOOL_WORKSPACE } from "../supervisor/tool-domain.js";

type Json = Record<string, unknown>;

/** Credential kinds (credentials/schema.ts) a carried secret may have; this layer cannot import them. */
export type CarriedKind = "telegram-bot" | "slack-bot" | "slack-app" | "discord-bot" | "generic";
export type HeaderBinding = { in: "header"; host: string; port: number; name: string };

export interface CarriedSecret {
  /** The host credential it becomes: `<sandbox>-<channel>[-<account>]-<field>`. */
  name: string;
  kind: CarriedKind;
  secret: string;
  /** Where it was in the operator's config (`channels.telegram.botToken`). */
  where: string;
  placeholderPrefix?: string;
  /** Absent: the kind's default bindings. */
  bindings?: HeaderBinding[];
}

export interface CarryOptions {
  sandbox: string;
  /** The operator's home (`~` in paths) and OpenClaw state dir (the default workspace's parent). */
  home: string;
  openclawStateDir: string;
  /** The key every carried provider gets: the router strips it and adds the real one. */
  routerApiKey: string;
  /** What the sandbox's route serves by name (its model and allowed models), in which shape; none without a route. */
  route?: { shape: "openai" | "anthropic"; models: readonly string[] };
  /**
   * Credential name → the placeholder this sandbox sees; a secret without one is an error.
   * Absent: a first pass that only finds the secrets (their places in `parts` are empty).
   */
  placeholders?: ReadonlyMap<string, string>;
}

/** What is merged into the sandbox's config. */
export interface CarriedParts {
  agents: Json;
  channels?: Json;
  skills?: Json;
  bindings?: unknown[];
  /** Merged into `models.providers` (the router's own entries are kept). */
  providers: Json;
  /**
   * Where OpenClaw sends plugin-approval prompts (the egress prompts among them): the operator's
   * `approvals.plugin` mode and targets; always enabled. Absent: nemoclaw's default (the session).
   */
  approvalRouting?: Json;
}

export interface CarryReport {
  agents: string[];
  channels: Array<{ name: string; enabled: boolean; placeholders: string[] }>;
  /** `skills.entries` ids carried (the skill folders themselves come with the workspace). */
  skillSettings: string[];
  providers: string[];
  /** Model choices pointed at the sandbox's route instead. */
  models: string[];
  dropped: Array<{ path: string; why: string }>;
  /** Carried, but will not work as it did on the host (a Discord channel's login). */
  warnings: string[];
}

export interface CarryResult {
  parts: CarriedParts;
  secrets: CarriedSecret[];
  /** Host folders to copy into the sandbox. */
  workspaces: Array<{ from: string; to: string; agent: string | null }>;
  report: CarryReport;
}

const slack = (prefix: string): Pick<CarriedSecret, "kind" | "placeholderPrefix" | "bindings"> => ({
  kind: "generic",
  placeholderPrefix: prefix,
  bindings: [{ in: "header", host: "slack.com", port: 443, name: "authorization" }],
});

/** Per channel: the fields holding a token OpenClaw sends to that service, and the credential it becomes. */
const CHANNEL_TOKENS: Record<string, Record<string, Pick<CarriedSecret, "kind" | "placeholderPrefix" | "bindings">>> = {
  telegram: { botToken: { kind: "telegram-bot" } },
  slack: { botToken: { kind: "slack-bot" }, appToken: { kind: "slack-app" }, userToken: slack("xoxp-") },
  discord: { token: { kind: "discord-bot" } },
};

/** Top-level sections carried; every other one is reported with why it stays on the host. */
const NOT_CARRIED: Record<string, string> = {
  gateway: "the sandbox's gateway is nemoclaw's own (loopback, its own token)",
  tools: "the sandbox's tool policy is nemoclaw's (tools run in the tools' domain)",
  plugins: "plugins are not installed inside (only nemoclaw's tool backend is)",
  proxy: "egress inside goes through the sandbox's forwarder",
  secrets: "no secret provider inside: secrets are host credentials, the sandbox sees placeholders",
  auth: "auth profiles hold keys: the router adds them on the host",
  env: "environment values may be secrets",
};
/**
 * Channels whose login a placeholder cannot carry: Discord's gateway takes the bot token in the
 * IDENTIFY frame of its WebSocket, and the egress proxy swaps placeholders in request heads
 * only, never inside frames.
 */
const PLACEHOLDER_CANNOT_LOG_IN: Record<string, string> = {
  discord:
    "Discord's gateway takes the token in a WebSocket IDENTIFY frame, which placeholders do not cover, so this channel cannot log in from the sandbox (its REST calls to discord.com do get the real token); keep it on the host's OpenClaw for now",
};
const SILENT = new Set(["$schema", "meta", "wizard", "update", "telemetry"]);

const SECRET_KEY = /(token|secret|password|passwd|passphrase|apikey|api_key|privatekey|private_key|credentials?|cookie)$/i;
const PATH_KEY = /(path|paths|dir|dirs|directory|file|files|root|cwd|workspace|agentdir)$/i;
/** Per-agent settings that would loosen the sandbox or name the host. */
const AGENT_DROPS: Record<string, string> = {
  agentDir: "a host path (the sandbox keeps agent state in its own OpenClaw state dir)",
  cwd: "a host path (sandboxed runs use the workspace)",
  sandbox: "every agent's tools run in nemoclaw's sandbox backend",
  runtime: "external agent harnesses run on the host",
};
const DEFAULTS_OURS: Record<string, string> = {
  workspace: `the sandbox's workspace is ${TOOL_WORKSPACE}`,
  sandbox: "every agent's tools run in nemoclaw's sandbox backend",
  model: "the sandbox's inference route decides (`openclaw nemoclaw <name> inference set`)",
  cwd: "a host path (sandboxed runs use the workspace)",
  repoRoot: "a host path",
};

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isSecretRef = (v: unknown): boolean => isObject(v) && typeof v.source === "string" && ("id" in v || "provider" in v);

export function credentialNameFor(sandbox: string, ...parts: string[]): string {
  const tail = parts.map((p) => p.toLowerCase().replace(/[^a-z0-9._-]+/g, "-")).join("-");
  return `${sandbox}-${tail}`.slice(0, 63).replace(/[-.]+$/, "");
}

export function carryOver(config: Json, options: CarryOptions): CarryResult {
  const report: CarryReport = { agents: [], channels: [], skillSettings: [], providers: [], models: [], dropped: [], warnings: [] };
  const secrets: CarriedSecret[] = [];
  const drop = (path: string, why: string) => report.dropped.push({ path, why });
  const expand = (p: string) => (p === "~" ? options.home : p.startsWith("~/") ? `${options.home}/${p.slice(2)}` : p);

  for (const key of Object.keys(config)) {
    if (!["agents", "bindings", "channels", "skills", "models", "approvals"].includes(key) && !SILENT.has(key)) drop(key, NOT_CARRIED[key] ?? "a host setting, not carried");
  }

  // ── approvals: where plugin-approval prompts go (nemoclaw's egress prompts use it) ────────
  let approvalRouting: Json | undefined;
  const approvals = isObject(config.approvals) ? config.approvals : {};
  for (const key of Object.keys(approvals)) if (key !== "plugin") drop(`approvals.${key}`, "exec approvals are the host's; the sandbox's tools run in nemoclaw's backend");
  if (isObject(approvals.plugin)) {
    const { mode, targets, enabled, ...rest } = approvals.plugin;
    for (const key of Object.keys(rest)) drop(`approvals.plugin.${key}`, "a filter could hide nemoclaw's egress prompts, which name the main session");
    if (enabled === false) drop("approvals.plugin.enabled", "nemoclaw's egress prompts need plugin approvals; they are always on in the sandbox");
    approvalRouting = {
      enabled: true,
      mode: mode === "targets" || mode === "both" ? mode : "session",
      ...(Array.isArray(targets) ? { targets: sanitize(targets, "approvals.plugin.targets", drop) } : {}),
    };
  }

  // ── model providers: all at inference.local, the router's key ───────────────────────────
  const providers: Json = {};
  const shapes = new Map<string, "openai" | "anthropic">();
  const models = isObject(config.models) ? config.models : {};
  for (const key of Object.keys(models)) if (key !== "providers") drop(`models.${key}`, "the sandbox's model settings are nemoclaw's");
  for (const [id, raw] of Object.entries(isObject(models.providers) ? models.providers : {})) {
    if (id.startsWith("nemoclaw-") || !isObject(raw)) continue;
    const at = `models.providers.${id}`;
    const anthropic = raw.api === "anthropic-messages";
    const api = anthropic ? "anthropic-messages" : raw.api === "openai-responses" ? "openai-responses" : "openai-completions";
    if (raw.api !== undefined && raw.api !== api) drop(`${at}.api`, `${String(raw.api)} is not served by inference.local; carried as ${api}`);
    const { baseUrl: _b, apiKey: _k, api: _a, headers, auth, ...rest } = raw;
    if (headers !== undefined) drop(`${at}.headers`, "headers may hold keys: the router sends its own");
    if (auth !== undefined) drop(`${at}.auth`, "the router authenticates on the host");
    providers[id] = { ...(sanitize(rest, at, drop) as Json), baseUrl: anthropic ? "http://inference.local" : "http://inference.local/v1", apiKey: options.routerApiKey, api };
    shapes.set(id, anthropic ? "anthropic" : "openai");
    report.providers.push(id);
  }

  /** A model reference the route can serve stays; any other is left to the sandbox's default (the route). */
  const servable = (ref: unknown): boolean => {
    if (typeof ref !== "string" || options.route === undefined) return false;
    const slash = ref.indexOf("/");
    return slash > 0 && shapes.get(ref.slice(0, slash)) === options.route.shape && options.route.models.includes(ref.slice(slash + 1));
  };
  const mapModels = (section: Json, at: string): Json => {
    const out: Json = {};
    for (const [k, v] of Object.entries(section)) {
      if (!/model$/i.test(k) || k === "models") {
        out[k] = v;
        continue;
      }
      const primary = isObject(v) ? v.primary : v;
      if (servable(primary)) {
        out[k] = isObject(v) ? { ...v, ...(Array.isArray(v.fallbacks) ? { fallbacks: v.fallbacks.filter(servable) } : {}) } : v;
      } else {
        report.models.push(`${at}.${k}${typeof primary === "string" ? ` (${primary})` : ""}`);
      }
    }
    return out;
  };

  // ── agents ──────────────────────────────────────────────────────────────────────────────
  const agentsIn = isObject(config.agents) ? config.agents : {};
  const agents: Json = {};
  const workspaces: CarryResult["workspaces"] = [];
  const defaultsIn = isObject(agentsIn.defaults) ? agentsIn.defaults : {};
  const defaultWorkspace = typeof defaultsIn.workspace === "string" ? expand(defaultsIn.workspace) : `${options.openclawStateDir}/workspace`;
  workspaces.push({ from: defaultWorkspace, to: TOOL_WORKSPACE, agent: null });
  for (const [key, value] of Object.entries(agentsIn)) {
    if (key === "defaults") {
      const defaults: Json = {};
      for (const [k, v] of Object.entries(defaultsIn)) {
        if (k in DEFAULTS_OURS) {
          if (k === "model" && typeof (isObject(v) ? v.primary : v) === "string") report.models.push(`agents.defaults.model (${String(isObject(v) ? v.primary : v)})`);
          else if (k !== "model") drop(`agents.defaults.${k}`, DEFAULTS_OURS[k]!);
        } else defaults[k] = v;
      }
      agents.defaults = sanitize(mapModels(defaults, "agents.defaults"), "agents.defaults", drop);
    } else if (key === "entries" && isObject(value)) {
      const entries: Json = {};
      for (const [id, rawEntry] of Object.entries(value)) {
        const at = `agents.entries.${id}`;
        if (!isObject(rawEntry)) continue;
        const entry: Json = {};
        for (const [k, v] of Object.entries(rawEntry)) {
          if (k in AGENT_DROPS) drop(`${at}.${k}`, AGENT_DROPS[k]!);
          else if (k === "workspace" && typeof v === "string") {
            const to = `${TOOL_WORKSPACE}/${id.replace(/[^A-Za-z0-9._-]/g, "_")}`;
            workspaces.push({ from: expand(v), to, agent: id });
            entry.workspace = to;
          } else if (k === "tools" && isObject(v)) {
            // Only ever narrower: an agent's allow/elevated could undo the sandbox's deny list.
            for (const t of Object.keys(v)) if (t !== "deny") drop(`${at}.tools.${t}`, "an agent's tool grants could loosen the sandbox's tool policy (its deny list is kept)");
            if (Array.isArray(v.deny)) entry.tools = { deny: v.deny };
          } else entry[k] = v;
        }
        const { workspace, ...others } = mapModels(entry, at);
        entries[id] = { ...(sanitize(others, at, drop) as Json), ...(workspace === undefined ? {} : { workspace }) };
        report.agents.push(id);
      }
      agents.entries = entries;
    } else {
      agents[key] = sanitize(value, `agents.${key}`, drop);
    }
  }

  // ── channels: known tokens → placeholders, every other secret dropped ───────────────────
  let channels: Json | undefined;
  if (isObject(config.channels)) {
    channels = {};
    for (const [name, rawChannel] of Object.entries(config.channels)) {
      if (!isObject(rawChannel)) {
        channels[name] = rawChannel;
        continue;
      }
      const tokens = CHANNEL_TOKENS[name] ?? {};
      const placed: string[] = [];
      const withTokens = (section: Json, at: string, account: string | undefined): Json => {
        const out: Json = {};
        for (const [k, v] of Object.entries(section)) {
          const spec = tokens[k];
          if (spec && typeof v === "string" && v !== "") {
            const credential = credentialNameFor(options.sandbox, name, ...(account === undefined ? [] : [account]), k);
            secrets.push({ name: credential, secret: v, where: `${at}.${k}`, ...spec });
            out[k] = placeholderOf(options.placeholders, credential);
            placed.push(`${at}.${k}`);
          } else if (k === "accounts" && isObject(v)) {
            out[k] = Object.fromEntries(Object.entries(v).map(([acct, a]) => [acct, isObject(a) ? withTokens(a, `${at}.accounts.${acct}`, acct) : a]));
          } else out[k] = v;
        }
        return out;
      };
      const at = `channels.${name}`;
      // Tokens first (they look like secrets to sanitize), then everything else through it.
      const replaced = withTokens(rawChannel, at, undefined);
      channels[name] = sanitize(replaced, at, drop, new Set(placed));
      report.channels.push({ name, enabled: rawChannel.enabled !== false, placeholders: placed });
      const cannot = PLACEHOLDER_CANNOT_LOG_IN[name];
      if (cannot !== undefined && placed.length > 0) report.warnings.push(`the ${name} channel's token (${placed.join(", ")}) is now a placeholder: ${cannot}`);
    }
  }

  // ── skills settings (the folders come with the workspace), bindings ─────────────────────
  let skills: Json | undefined;
  if (isObject(config.skills)) {
    skills = sanitize(config.skills, "skills", drop) as Json;
    report.skillSettings = Object.keys(isObject(skills.entries) ? skills.entries : {});
  }
  const bindings = Array.isArray(config.bindings) ? (sanitize(config.bindings, "bindings", drop) as unknown[]) : undefined;

  return {
    parts: { agents, providers, ...(channels ? { channels } : {}), ...(skills ? { skills } : {}), ...(bindings ? { bindings } : {}), ...(approvalRouting ? { approvalRouting } : {}) },
    secrets,
    workspaces,
    report,
  };
}

function placeholderOf(placeholders: ReadonlyMap<string, string> | undefined, credential: string): string {
  if (placeholders === undefined) return "";
  const p = placeholders.get(credential);
  if (p === undefined) throw new Error(`carry-over: no placeholder for credential ${credential}`);
  return p;
}

/**
 * A copy without secrets or host paths: secret-named strings, SecretRefs and `env` values are
 * dropped (no endpoint to bind them to), so are `~`-paths and absolute paths under path-named
 * keys. `keep`: paths already replaced by placeholders.
 */
function sanitize(value: unknown, at: string, drop: (path: string, why: string) => void, keep: ReadonlySet<string> = new Set()): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((v, i) => {
      if (typeof v === "string" && looksLikeHostPath(v, at)) drop(`${at}[${i}]`, "a host path");
      else out.push(sanitize(v, `${at}[${i}]`, drop, keep));
    });
    return out;
  }
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const path = `${at}.${k}`;
    if (keep.has(path)) out[k] = v;
    else if (isSecretRef(v)) drop(path, "a secret reference: no secret provider inside (add it with `openclaw nemoclaw credentials add` and bind it)");
    else if (k === "env" && isObject(v)) {
      for (const name of Object.keys(v)) drop(`${path}.${name}`, "an environment value may be a secret (add it with `openclaw nemoclaw credentials add` and bind it)");
    } else if (SECRET_KEY.test(k) && (typeof v === "string" || isObject(v))) drop(path, "a secret nemoclaw has no endpoint binding for (add it with `openclaw nemoclaw credentials add` and bind it)");
    else if (typeof v === "string" && looksLikeHostPath(v, path)) drop(path, "a host path");
    else out[k] = sanitize(v, path, drop, keep);
  }
  return out;
}

function looksLikeHostPath(v: string, at: string): boolean {
  if (v === "~" || v.startsWith("~/")) return true;
  const key = at.replace(/\[\d+\]$/, "").split(".").at(-1) ?? "";
  return (v.startsWith("/") || v.startsWith("./") || v.startsWith("../")) && PATH_KEY.test(key);
}

/** Every value the config holds under a secret-named key or in an `env` map: no copied file may contain one. */
export function sensitiveValues(config: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, key: string, inEnv: boolean): void => {
    if (typeof v === "string") {
      if ((inEnv || SECRET_KEY.test(key)) && v.length >= 8) out.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key, inEnv));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, k, inEnv || k === "env");
  };
  walk(config, "", false);
  return [...out];
}
