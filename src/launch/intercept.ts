// Launch interception: the operator's `openclaw gateway [run]` (and the installed service, which
// runs `… gateway --port N`) ends with the gateway running inside the sandbox.
//
// How: OpenClaw runs no plugin code before the gateway has bound its port, and a plugin cannot
// replace the built-in `gateway` command. The first plugin code in that process is register() in
// mode `full`; there we replace the process with process.execve: same pid, so whatever started
// it (a terminal, systemd, a test) keeps its child, sends its signals to it directly and gets
// its exit code. The listening sockets are close-on-exec, so the port is free for the relay. The
// agent, its model calls and its channels never start on the host: register() runs before any
// of them (docs/architecture.md, "Launch interception").
import { existsSync } from "node:fs";
import path from "node:path";
import { gatewayPort, isForegroundGatewayArgv } from "./argv.js";
import { replaceProcess } from "./replace-process.js";
import { NO_SANDBOX_ENV, REQUIRE_SANDBOX_ENV, type LaunchRequest } from "./request.js";
import { openclawStateDir, type ResolvedConfig } from "../config/resolve.js";
import { packageRoot } from "../package-root.js";

/** The launch step this process becomes (bundled from exec-gateway.ts). */
export const LAUNCH_SCRIPT = path.join(packageRoot, "dist", "src", "launch.js");

/**
 * Recursion guard. The sandboxed gateway never loads this plugin (its config names only the
 * tool backend), and its image carries the Landlock launcher at a root-owned path on a
 * read-only root filesystem: nothing the agent runs can remove it, and nothing on the host
 * creates it.
 */
const SANDBOX_MARKER = "/usr/local/lib/nemoclaw/landlock-exec";

export type InterceptDecision =
  | { kind: "not-a-gateway-run" }
  | { kind: "inside-sandbox" }
  | { kind: "not-configured" }
  | { kind: "refused"; reason: string }
  | { kind: "opted-out"; reason: string }
  | { kind: "launch"; request: LaunchRequest };

/** What register() does with this process: pure, so the rules are unit-tested. */
export function decideLaunch(input: {
  title: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  config: ResolvedConfig;
  configPort: unknown;
  uid: number;
  insideSandbox: boolean;
}): InterceptDecision {
  if (input.title !== "openclaw-gateway" || !isForegroundGatewayArgv(input.args)) return { kind: "not-a-gateway-run" };
  if (input.insideSandbox) return { kind: "inside-sandbox" };
  const launch = input.config.launch;
  const noSandbox = input.env[NO_SANDBOX_ENV] === "1" ? `${NO_SANDBOX_ENV}=1 is set` : undefined;
  if (!launch) {
    if (input.env[REQUIRE_SANDBOX_ENV] !== "1") return { kind: "not-configured" };
    return noSandbox
      ? { kind: "opted-out", reason: noSandbox }
      : { kind: "refused", reason: "no sandbox is configured for it (plugins.entries.nemoclaw.config.launch)" };
  }
  if (noSandbox) return { kind: "opted-out", reason: noSandbox };
  if (!launch.enabled) return { kind: "opted-out", reason: "plugins.entries.nemoclaw.config.launch.enabled is false" };
  return {
    kind: "launch",
    request: {
      name: launch.sandbox,
      port: gatewayPort(input.args, input.env, input.configPort),
      stateDir: input.config.stateDir,
      ...(input.config.dockerHost ? { dockerHost: input.config.dockerHost } : {}),
      lockDir: path.join(openclawStateDir(input.env), "tmp", `openclaw-${input.uid}`),
    },
  };
}

/** Called from register() in mode `full`: returns only when this gateway stays on the host. */
export function interceptGatewayLaunch(config: () => ResolvedConfig, configPort: unknown): void {
  // Cheap checks first: register() runs in every OpenClaw process that loads the plugin.
  if (process.title !== "openclaw-gateway" || !isForegroundGatewayArgv(process.argv.slice(2))) return;
  let resolved: ResolvedConfig;
  try {
    resolved = config();
  } catch (e) {
    // Carrying on would start the assistant on the host: stop here. 78 tells the service manager not to retry.
    process.stderr.write(`nemoclaw: not starting the gateway: ${(e as Error).message}\n${(e as { hint?: string }).hint ?? ""}\n`);
    process.exit(78);
  }
  const decision = decideLaunch({
    title: process.title,
    args: process.argv.slice(2),
    env: process.env,
    config: resolved,
    configPort,
    uid: process.getuid?.() ?? 0,
    insideSandbox: existsSync(SANDBOX_MARKER),
  });
  if (decision.kind === "opted-out") {
    process.stderr.write(
      `nemoclaw: WARNING: this OpenClaw gateway runs ON THE HOST, NOT in a sandbox (${decision.reason}).\n` +
        `nemoclaw:          its agent, tools, model calls and channels have this user's full access.\n` +
        `nemoclaw:          to sandbox it again: unset ${NO_SANDBOX_ENV} and set launch.enabled to true.\n`,
    );
    return;
  }
  if (decision.kind === "refused") {
    process.stderr.write(`nemoclaw: not starting the gateway on the host: ${decision.reason}.\n  run \`openclaw nemoclaw onboard\`, or set ${NO_SANDBOX_ENV}=1 to run it unsandboxed\n`);
    process.exit(78);
  }
  if (decision.kind !== "launch") return;
  process.stderr.write(`nemoclaw: relaunching this gateway inside sandbox ${decision.request.name} (pid ${process.pid} stays)\n`);
  replaceProcess(process.execPath, [LAUNCH_SCRIPT, JSON.stringify(decision.request)]);
}
