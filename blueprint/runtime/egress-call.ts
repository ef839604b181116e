// The runtime's side of the egress verbs (approvals, a sandbox's live policy, its egress log):
// one call to the host daemon's control API, which serves the gateway's routes under /egress/.
import { z } from "zod";
import { controlRequest, ControlError } from "./daemon-client.js";
import { RuntimeError } from "../state/runtime-error.js";

export const EGRESS_ROUTES = [
  "approvals/list",
  "approvals/decide",
  "approvals/wait",
  "policy/get",
  "policy/set",
  "policy/diff",
  "policy/add-preset",
  "logs",
] as const;

export const EgressCallRequestFields = {
  stateDir: z.string().min(1),
  route: z.enum(EGRESS_ROUTES),
  body: z.record(z.string(), z.unknown()),
};

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
