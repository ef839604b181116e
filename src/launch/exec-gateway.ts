// The launch step (bundled as dist/src/launch.js). The host gateway process becomes this program
// through execve (intercept.ts) and then becomes the runtime's foreground gateway through a
// second execve: one pid from the operator's `openclaw gateway` to the relay, so signals and the
// exit code pass with nothing in between. In between, it does what needs this plugin's code:
// it removes the gateway locks OpenClaw left naming this pid, and verifies the sealed runtime
// before running it, as every runtime call does.
import path from "node:path";
import { removeLocksOf } from "./locks.js";
import { LaunchRequestSchema } from "./request.js";
import { replaceProcess } from "./replace-process.js";
import { assertBlueprintVerified } from "../blueprint/run.js";
import { UserError } from "../errors.js";
import { blueprintDir } from "../package-root.js";

/** Exit code for a launch that cannot succeed as configured: systemd's RestartPreventExitStatus. */
const EX_CONFIG = 78;

async function main(): Promise<void> {
  const parsed = LaunchRequestSchema.safeParse((() => {
    try {
      return JSON.parse(process.argv[2] ?? "");
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) throw new UserError("the nemoclaw launch step got a request it does not understand", "the plugin was updated while the gateway started; run the command again");
  const req = parsed.data;
  removeLocksOf(process.pid, req.lockDir);
  await assertBlueprintVerified();
  const runtimeRequest = {
    command: "sandbox.gateway",
    stateDir: req.stateDir,
    ...(req.dockerHost ? { dockerHost: req.dockerHost } : {}),
    name: req.name,
    port: req.port,
  };
  replaceProcess(process.execPath, [path.join(blueprintDir, "runtime", "main.js"), "launch", JSON.stringify(runtimeRequest)]);
}

main().catch((e: unknown) => {
  if (e instanceof UserError) {
    process.stderr.write(`nemoclaw: ${e.message}\n${e.details.map((d) => `  ${d}\n`).join("")}${e.hint ? `  ${e.hint}\n` : ""}`);
  } else {
    process.stderr.write(`nemoclaw: the launch step failed (a bug): ${(e as Error).stack ?? String(e)}\n`);
  }
  process.exit(EX_CONFIG);
});
