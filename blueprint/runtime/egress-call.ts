// The runtime's side of the egress verbs (approvals, a sandbox's live policy, its egress log):
// one call to the host daemon's control API, which serves the gateway's routes under /egress/.
import type { EGRESS_ROUTES } from "./protocol.js";
import { controlRequest, ControlError } from "./daemon-client.js";
import { RuntimeError } from "../state/runtime-error.js";

export async function egressCall(req: { stateDir: string; route: (typeof EGRESS_ROUTES)[number]; body: Record<string, unknown> }): Promise<unknown> {
  try {
    return await controlRequest(req.stateDir, "POST", `/egress/${req.route}`, req.body);
  } catch (e) {
    if (e instanceof ControlError) {
      throw new RuntimeError("control-refused", `the nemoclaw runtime refused the request: ${e.message}`, "check the arguments; `openclaw nemoclaw --help` lists them");
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ECONNREFUSED") {
      throw new RuntimeError(
        "daemon-not-running",
        "the nemoclaw runtime is not running, so there is no egress gateway to ask",
        "start a sandbox (`openclaw nemoclaw <name> start`); the runtime starts with it",
      );
    }
    throw e;
  }
}
