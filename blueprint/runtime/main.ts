// The runtime's entry point. The plugin runs `node main.js '<request JSON>'` after verifying the
// blueprint digest; this file answers with JSON lines on stdout (see protocol.ts).
import { RequestSchema, type Message, type Request } from "./protocol.js";
import { RuntimeError } from "./runtime-error.js";
import { handlers } from "./handlers.js";

function emit(message: Message): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
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

process.exitCode = await main(process.argv.slice(2));
