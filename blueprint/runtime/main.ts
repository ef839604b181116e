// The runtime's entry point. The plugin runs `node main.js '<request JSON>'` after verifying the
// blueprint digest; this file answers with JSON lines (see protocol.ts) on stdout, or on the file
// descriptor named by NEMOCLAW_PROTOCOL_FD for streaming verbs, whose stdio is the terminal's.
//
// `node main.js daemon <stateDir>` runs the host daemon instead (daemon.ts); the runtime starts
// it detached when a sandbox needs its egress path.
import { writeSync } from "node:fs";
import { PROTOCOL_FD_ENV, RequestSchema, STREAMING_COMMANDS, type Message, type Request } from "./protocol.js";
import { RuntimeError } from "../state/runtime-error.js";

const protocolFd = process.env[PROTOCOL_FD_ENV] ? Number(process.env[PROTOCOL_FD_ENV]) : undefined;

function emit(message: Message): void {
  const line = `${JSON.stringify(message)}\n`;
  if (protocolFd !== undefined) writeSync(protocolFd, line);
  else process.stdout.write(line);
}

async function main(argv: readonly string[]): Promise<number> {
  let request: Request;
  try {
    request = RequestSchema.parse(JSON.parse(argv[0] ?? ""));
  } catch (e) {
    emit({
      type: "error",
      code: "bad-request",
      message: `the runtime did not understand its request: ${(e as Error).message.split("\n")[0]}`,
      hint: "the plugin and the runtime are from different versions; reinstall nemoclaw",
    });
    return 2;
  }
  // Imported after parsing so that `daemon` and a bad request load only what they need.
  const { handlers } = await import("./handlers.js");
  try {
    const data = await handlers[request.command](request as never, (step, message, percent) =>
      emit({ type: "progress", step, message, ...(percent === undefined ? {} : { percent }) }),
    );
    emit({ type: "result", data });
    return 0;
  } catch (e) {
    if (e instanceof RuntimeError) {
      emit({ type: "error", code: e.code, message: e.message, hint: e.hint, details: [...e.details] });
      return 1;
    }
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    emit({
      type: "error",
      code: "internal",
      message: `internal error in the nemoclaw runtime: ${(e as Error).message}`,
      hint: "this is a bug; the stack trace is on stderr — please report it",
    });
    return 70;
  }
}

/**
 * `node main.js launch '<sandbox.gateway request>'`: what the operator's `openclaw gateway`
 * becomes (src/launch/). No plugin reads an answer: output is for a person or a journal, and
 * the exit code is the sandboxed gateway's. A launch that cannot work as configured exits 78
 * (systemd's RestartPreventExitStatus: retrying will not help); anything else, e.g. Docker not
 * up yet at boot, exits 1 so the service manager tries again.
 */
const CONFIG_ERRORS = new Set(["unknown-sandbox", "bad-name", "not-a-gateway-sandbox", "docker-host-invalid"]);
async function launch(arg: string | undefined): Promise<number> {
  let request: Extract<Request, { command: "sandbox.gateway" }>;
  try {
    const parsed = RequestSchema.parse(JSON.parse(arg ?? ""));
    if (parsed.command !== "sandbox.gateway") throw new Error(`launch runs sandbox.gateway, not ${parsed.command}`);
    request = parsed;
  } catch (e) {
    process.stderr.write(`nemoclaw: the runtime did not understand its launch request: ${(e as Error).message.split("\n")[0]}\n  reinstall nemoclaw\n`);
    return 78;
  }
  const { handlers } = await import("./handlers.js");
  try {
    return ((await handlers["sandbox.gateway"](request, () => undefined)) as { exitCode: number }).exitCode;
  } catch (e) {
    if (!(e instanceof RuntimeError)) throw e;
    process.stderr.write(`nemoclaw: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ""}`);
    return CONFIG_ERRORS.has(e.code) ? 78 : 1;
  }
}

const args = process.argv.slice(2);
if (args[0] === "daemon") {
  const { runDaemonMain } = await import("./daemon.js");
  process.exitCode = await runDaemonMain(args[1]);
} else if (args[0] === "launch") {
  process.exit(await launch(args[1]));
} else {
  const code = await main(args);
  const command = (() => {
    try {
      return (JSON.parse(args[0] ?? "{}") as { command?: string }).command;
    } catch {
      return undefined;
    }
  })();
  // A streaming verb may leave the inherited stdin open (a terminal never ends): exit explicitly.
  if ((STREAMING_COMMANDS as readonly (string | undefined)[]).includes(command)) process.exit(code);
  process.exitCode = code;
  // The answer is out; a forgotten handle (a Docker request left open) must not hold the CLI.
  setTimeout(() => {
    process.stderr.write("nemoclaw runtime: exiting with handles still open (a bug)\n");
    process.exit(code);
  }, 2000).unref();
}
