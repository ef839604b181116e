// A gateway sandbox: its workload is OpenClaw's gateway (`openclaw gateway run --bind loopback
// --port 18789`), and every command the gateway's agent starts runs one Landlock domain further
// down, the tools' domain (docs/architecture.md, "The gateway inside and the tools' domain").
//
//   supervisor (root)       seeds the config, relays /run/nemoclaw-gateway/gateway.sock → :18789
//   └─ landlock-exec …      the gateway's domain: the policy's lists, bind 18789, connect 3128
//      └─ openclaw-gateway
//         └─ landlock-exec  the tools' domain (toolLauncherArgv): no gateway state, no bind,
//            └─ sh -c …     connect 3128 only, signals and abstract sockets scoped
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../state/atomic-write.js";
import { ensureSecretFile } from "../state/caller-secret.js";
import { sandboxDir, sandboxRunDir } from "../state/paths.js";
import { TOOL_WORKSPACE } from "../supervisor/tool-domain.js";
import { PROXY_URL, SANDBOX_HOME } from "./container-spec.js";
import { mergeGatewayModels, type GatewayModels } from "./gateway-models.js";

export { toolShellArgv, TOOL_WORKSPACE } from "../supervisor/tool-domain.js";

export const GATEWAY_PORT = 18789;
/** The gateway's state (config with its token, device keys, sessions): OpenClaw's default under HOME. */
export const GATEWAY_STATE_DIR = `${SANDBOX_HOME}/.openclaw`;
export const GATEWAY_CONFIG = `${GATEWAY_STATE_DIR}/openclaw.json`;
/** Gateway logs (OpenClaw's default, outside its state dir). */
export const GATEWAY_LOG_DIR = "/tmp/openclaw";
/** The relay socket's folder inside; a rw bind of <run dir>/gateway, in no Landlock list. */
export const GATEWAY_RELAY_DIR = "/run/nemoclaw-gateway";
export const GATEWAY_RELAY_SOCKET = `${GATEWAY_RELAY_DIR}/gateway.sock`;
/** Where the in-sandbox backend plugin (supervisor/tool-backend) is staged. */
export const TOOL_BACKEND_PLUGIN_DIR = "/opt/nemoclaw/supervisor/tool-backend";

/** The workload command of a gateway sandbox. */
export function gatewayCommand(openclawEntry: string): string[] {
  return ["/usr/local/bin/node", openclawEntry, "gateway", "run", "--bind", "loopback", "--port", String(GATEWAY_PORT)];
}

/**
 * The gateway's environment on top of the sandbox's: host exec would hand the gateway's env to
 * tools, so nothing secret is here (the token is in the config file). SHELL points host exec (if
 * any path reached it) at a shell that does not exist: it fails instead of running in the
 * gateway's domain; the snapshot (bash/zsh only) is off.
 */
export const GATEWAY_ENV: Readonly<Record<string, string>> = {
  SHELL: "/usr/local/lib/nemoclaw/no-host-exec",
  OPENCLAW_EXEC_SHELL_SNAPSHOT: "0",
};

/**
 * The config the gateway starts with: loopback, token auth, tools sandboxed by our backend, and,
 * when the sandbox has an inference route, the router's provider entries (gateway-models.ts).
 */
export function gatewayConfig(token: string, models?: GatewayModels): string {
  const base = {
    proxy: { proxyUrl: PROXY_URL },
    gateway: { mode: "local", bind: "loopback", port: GATEWAY_PORT, auth: { mode: "token", token } },
    agents: {
      defaults: {
        workspace: TOOL_WORKSPACE,
        sandbox: { mode: "all", backend: "nemoclaw", scope: "agent", workspaceAccess: "rw" },
      },
    },
    tools: {
      deny: ["group:automation", "gateway", "cron", "openclaw", "plugins", "browser", "canvas", "nodes", "computer", "sessions_spawn", "sessions_send", "subagents"],
      fs: { workspaceOnly: true },
      exec: { host: "sandbox" },
      elevated: { enabled: false },
      codeMode: false,
    },
    plugins: { load: { paths: [TOOL_BACKEND_PLUGIN_DIR] }, entries: { "nemoclaw-tools": { enabled: true } } },
    // Egress prompts (runtime/chat-approvals.ts) name the main session: OpenClaw forwards them to
    // its last channel. The operator's own mode and targets replace this at carry-over.
    approvals: { plugin: { enabled: true, mode: "session" } },
    // OpenClaw's own start-up requests (update check and usage statistics to
    // telemetry.openclaw.ai, the hosted model catalog at catalog.openclaw.ai) would each be held
    // for the operator's approval as `node`, delay readiness by the hold, and ask the operator to
    // allow a binary the agent's tools use too. The sandboxed copy is updated with the host's.
    update: { checkOnStart: false },
    telemetry: { enabled: false },
    models: { catalogRefresh: { enabled: false } },
  };
  const config = models ? mergeGatewayModels(base, models) : base;
  return `// Written by nemoclaw when the gateway sandbox first started. Holds the gateway's token:\n// readable by the gateway only, never by the processes its tools start.\n${JSON.stringify(config, null, 2)}\n`;
}

/** The gateway's token on the host (0600): what the operator's own `openclaw` CLI authenticates with. */
export function gatewayTokenFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "gateway.token");
}

/** What a gateway token may be: printable ASCII without spaces (OpenClaw's own are hex). */
const GATEWAY_TOKEN = /^[\x21-\x7e]{16,512}$/;

/**
 * The gateway's token: the one in its host file (0600), made (32 random bytes, hex) when there is
 * none. The file may hold the operator's own token (hostGatewayToken), so any usable token is read.
 */
export async function ensureGatewayToken(stateDir: string, name: string): Promise<string> {
  const file = gatewayTokenFile(stateDir, name);
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (text === undefined) return ensureSecretFile(file, "gateway token");
  const token = text.trim();
  if (!GATEWAY_TOKEN.test(token)) throw new Error(`${file} is not a gateway token; remove it and recreate the sandbox`);
  return token;
}

/** Gives a sandbox being created this gateway token (0600, atomically) instead of a new one. */
export async function writeGatewayToken(stateDir: string, name: string, token: string): Promise<void> {
  if (!GATEWAY_TOKEN.test(token)) throw new Error("a gateway token is 16 to 512 printable characters without spaces");
  await writeFileAtomic(gatewayTokenFile(stateDir, name), `${token}\n`, { mode: 0o600 });
}

/**
 * The token the operator's own `openclaw` CLI sends to a local gateway, from their OpenClaw
 * config: `gateway.auth.token` when it is a plain string and the config is local token auth
 * (mode unset or `token`; not `gateway.mode: remote`, whose CLI goes elsewhere). Given to the
 * sandbox that takes over the operator's gateway, it makes `openclaw tui|agent|approvals …` on
 * the host work unchanged against the relay on their gateway port. A SecretRef, a password or a
 * token only in the environment is not read: that sandbox gets its own token.
 */
export function hostGatewayToken(operatorConfig: Record<string, unknown>): string | undefined {
  const gateway = operatorConfig.gateway as { mode?: unknown; auth?: { mode?: unknown; token?: unknown } } | undefined;
  if (gateway?.mode === "remote") return undefined;
  const auth = gateway?.auth;
  if (auth?.mode !== undefined && auth.mode !== "token") return undefined;
  const token = typeof auth?.token === "string" ? auth.token.trim() : undefined;
  return token !== undefined && GATEWAY_TOKEN.test(token) ? token : undefined;
}

/**
 * How the host's `openclaw agent|tui|approvals …` reach the relayed gateway: OpenClaw's
 * connection variables, the token read from its file into the environment of each short-lived
 * CLI call (never an argv, never the operator's config). With OPENCLAW_GATEWAY_URL set, OpenClaw
 * takes credentials from the environment only, so a host config's own gateway.auth.token
 * cannot shadow the sandbox's (docs/gateway/remote.md, "Credential precedence").
 */
export function hostClientHint(stateDir: string, name: string, port: number): string[] {
  const quoted = `'${gatewayTokenFile(stateDir, name).replaceAll("'", `'\\''`)}'`;
  return [
    "from this host, OpenClaw's CLI reaches it with the sandbox's token in its environment:",
    `  export OPENCLAW_GATEWAY_URL=ws://127.0.0.1:${port} OPENCLAW_GATEWAY_TOKEN="$(cat ${quoted})"`,
    '  openclaw agent --agent main -m "hello"   |   openclaw tui   |   openclaw approvals pending',
  ];
}

/** Host folder of the relay socket: <run dir>/gateway. */
export function hostRelayDir(runDir: string): string {
  return path.join(runDir, "gateway");
}

/** Host path of a gateway sandbox's relay socket (connect to reach its gateway). */
export function gatewaySocketFile(stateDir: string, name: string): string {
  return path.join(hostRelayDir(sandboxRunDir(stateDir, name)), path.basename(GATEWAY_RELAY_SOCKET));
}
