// The runtime's side of the credential and inference verbs: the daemon's control API when a
// daemon runs (it then owns every write and reloads its router at once), the same handlers
// in-process when none does (inference-routes.ts). An `{ok:false}` answer becomes a RuntimeError.
import { CredentialStore } from "../credentials/store.js";
import { RouteStore } from "../inference/route.js";
import { RuntimeError } from "../state/runtime-error.js";
import { controlRequest, ControlError } from "./daemon-client.js";
import { callInferenceRoute, type InferenceRoute } from "./inference-routes.js";

export async function inferenceCall(stateDir: string, route: InferenceRoute, body: Record<string, unknown>): Promise<unknown> {
  let answer: unknown;
  try {
    answer = await controlRequest(stateDir, "POST", `/${route}`, body);
  } catch (e) {
    if (e instanceof ControlError) {
      throw new RuntimeError("control-refused", `the nemoclaw daemon refused the request: ${e.message}`, "the daemon may be from another version: `openclaw nemoclaw daemon stop`, then retry");
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ECONNREFUSED") throw e;
    const credentials = new CredentialStore(stateDir);
    answer = await callInferenceRoute({ stateDir, credentials, routes: new RouteStore(stateDir, credentials), reload: () => {} }, route, body);
  }
  const failure = answer as { ok?: boolean; error?: string; message?: string; hint?: string };
  if (failure.ok === false) throw new RuntimeError(failure.error ?? "failed", failure.message ?? "the request failed", failure.hint);
  return answer;
}
