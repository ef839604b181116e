// Which OpenClaw invocations are "the operator's gateway": `openclaw gateway`, `openclaw gateway
// run` and the installed service's `… gateway --port N`, with any of the run flags. The value
// flags are OpenClaw's own list (gateway-run-argv in the installed package): a value such as
// `--bind loopback` must not be read as a subcommand.
const VALUE_FLAGS = new Set(["--port", "--bind", "--token", "--token-file", "--auth", "--password", "--password-file", "--tailscale", "--ws-log", "--raw-stream-path"]);
/** Root options that take a value (before the command). */
const ROOT_VALUE_FLAGS = new Set(["--profile", "--container", "--log-level"]);

/** The positionals of `args` (argv without node and script), skipping option values. */
function positionals(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--") break;
    if (a.startsWith("-")) {
      if (!a.includes("=") && (VALUE_FLAGS.has(a) || ROOT_VALUE_FLAGS.has(a))) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** True for the foreground gateway: `gateway` alone or `gateway run`. */
export function isForegroundGatewayArgv(args: readonly string[]): boolean {
  const p = positionals(args);
  return p[0] === "gateway" && (p.length === 1 || (p.length === 2 && p[1] === "run"));
}

/**
 * The port the gateway was asked for, by OpenClaw's order: `--port` > OPENCLAW_GATEWAY_PORT >
 * `gateway.port` in its config > 18789.
 */
export function gatewayPort(args: readonly string[], env: NodeJS.ProcessEnv, configPort: unknown): number {
  let flag: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--") break;
    if (a === "--port") flag = args[i + 1];
    else if (a.startsWith("--port=")) flag = a.slice("--port=".length);
  }
  for (const candidate of [flag, env.OPENCLAW_GATEWAY_PORT, configPort]) {
    const n = Number(candidate);
    if (candidate !== undefined && candidate !== "" && Number.isInteger(n) && n > 0 && n < 65536) return n;
  }
  return 18789;
}
