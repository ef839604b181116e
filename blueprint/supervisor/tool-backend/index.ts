// The OpenClaw plugin the sandboxed gateway loads (plugins.load.paths, staged read-only with the
// supervisor): sandbox backend "nemoclaw", which the gateway's config selects for every agent
// (agents.defaults.sandbox {mode: all, backend: nemoclaw}). The gateway spawns the argv a backend
// returns as is, so every exec and every fs-bridge shell command starts in the tools' domain
// (tool-domain.ts), with an environment built from an allow-list. An unregistered backend fails
// closed in OpenClaw (no exec at all), never falls back to the gateway's own domain.
// registerSandboxBackend is public JS without published types (openclaw/plugin-sdk/sandbox).
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { TOOL_TMPDIR, TOOL_WORKSPACE, toolCommandLog, toolEnv, toolShellArgv } from "../tool-domain.js";
import { handleNemoclawCommand } from "./chat-command.js";
import { SNAPSHOT_METHOD } from "./chat-snapshot-message.js";
import { snapshotMethod } from "./host-snapshot.js";

interface ExecParams {
  command: string;
  workdir?: string;
  env: Record<string, string>;
  usePty: boolean;
}
interface ShellParams {
  script: string;
  args?: string[];
  stdin?: Buffer | string;
  allowFailure?: boolean;
  signal?: AbortSignal;
}
type RegisterSandboxBackend = (id: string, registration: { factory: (ctx: { scopeKey?: string; workspaceDir?: string }) => Promise<unknown> | unknown }) => unknown;

/**
 * The SDK module of the OpenClaw running this plugin (whose registry the gateway reads): found
 * next to the running entry script and loaded synchronously (require of ESM, Node >= 22.12),
 * so register() stays synchronous and shares the module instance the gateway imported.
 */
function sandboxSdk(): { registerSandboxBackend: RegisterSandboxBackend } {
  const pkg = path.dirname(realpathSync(process.argv[1] ?? "/opt/openclaw/node_modules/openclaw/openclaw.mjs"));
  return createRequire(import.meta.url)(path.join(pkg, "dist/plugin-sdk/sandbox.js")) as { registerSandboxBackend: RegisterSandboxBackend };
}

function ensureToolDirs(): void {
  // Made from the gateway's domain (rw on /sandbox and /tmp): the tools' rules need them to exist.
  for (const dir of [TOOL_WORKSPACE, TOOL_TMPDIR]) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Every command handed to the tools' domain, one JSON line in the OpenClaw state dir (which the
 * tools cannot read or write): what `skill test` reports as the commands the agent ran, and a
 * record for the operator. Best effort: a full disk must not stop the agent.
 */
function recordCommand(kind: "exec" | "shell", command: string, args: readonly string[] = []): void {
  try {
    const file = toolCommandLog(process.env);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    appendFileSync(file, `${JSON.stringify({ time: Date.now(), kind, command, ...(args.length > 0 ? { args } : {}) })}\n`, { mode: 0o600 });
  } catch {
    // Not recordable: the command still runs in the tools' domain.
  }
}

function runShell(p: ShellParams): Promise<{ stdout: Buffer; stderr: Buffer; code: number }> {
  recordCommand("shell", p.script, p.args);
  const [file, ...args] = toolShellArgv(p.script);
  const child = spawn(file as string, [...args, "nemoclaw-tool", ...(p.args ?? [])], {
    cwd: TOOL_WORKSPACE,
    env: toolEnv(process.env),
    stdio: ["pipe", "pipe", "pipe"],
    ...(p.signal ? { signal: p.signal } : {}),
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  child.stdin.end(p.stdin ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code: code ?? 1 };
      if (result.code !== 0 && !p.allowFailure) reject(new Error(`command failed in the tools' domain (exit ${result.code}): ${result.stderr.toString("utf8").slice(0, 500)}`));
      else resolve(result);
    });
  });
}

function createHandle(ctx: { scopeKey?: string; workspaceDir?: string }) {
  ensureToolDirs();
  return {
    id: "nemoclaw",
    runtimeId: `nemoclaw-${ctx.scopeKey ?? "agent"}`,
    runtimeLabel: "nemoclaw tools' Landlock domain",
    workdir: TOOL_WORKSPACE,
    workdirValidation: "host" as const,
    async buildExecSpec(p: ExecParams) {
      ensureToolDirs();
      recordCommand("exec", p.command);
      return {
        argv: toolShellArgv(p.command),
        env: toolEnv(process.env, p.env),
        cwd: p.workdir && p.workdir.startsWith(TOOL_WORKSPACE) ? p.workdir : TOOL_WORKSPACE,
        stdinMode: p.usePty ? ("pipe-open" as const) : ("pipe-closed" as const),
      };
    },
    runShellCommand: runShell,
  };
}

export default {
  id: "nemoclaw-tools",
  name: "nemoclaw tool domain",
  description: "Runs the agent's commands in the tools' Landlock domain",
  register(api: {
    registrationMode?: string;
    logger?: { info?: (m: string) => void };
    registerCommand?: (command: { name: string; description: string; acceptsArgs: boolean; requireAuth: boolean; handler: typeof handleNemoclawCommand }) => void;
    registerGatewayMethod?: (method: string, handler: typeof snapshotMethod, opts: { scope: string; profileAccess: "independent" }) => void;
  }): void {
    if (api.registrationMode !== undefined && api.registrationMode !== "full") return;
    ensureToolDirs();
    const { registerSandboxBackend } = sandboxSdk();
    registerSandboxBackend("nemoclaw", { factory: createHandle });
    // Authorized senders only: OpenClaw parses commands from inbound messages, never from the model's replies.
    api.registerCommand?.({ name: "nemoclaw", description: "Status, policy, denials and egress approvals of this nemoclaw sandbox", acceptsArgs: true, requireAuth: true, handler: handleNemoclawCommand });
    // The host daemon pushes what status/policy/logs show (runtime/chat-status-feed.ts). Scope
    // operator.approvals: the host's approval connection holds it; the snapshot is in memory
    // only, neither durable user nor session state, so profile verification does not apply.
    api.registerGatewayMethod?.(SNAPSHOT_METHOD, snapshotMethod, { scope: "operator.approvals", profileAccess: "independent" });
    api.logger?.info?.("nemoclaw: sandbox backend \"nemoclaw\" registered (tools' Landlock domain)");
  },
};
