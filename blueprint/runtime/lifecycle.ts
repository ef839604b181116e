// `eject --export` and `uninstall` / `gc` on the runtime side: /sandbox copied out of a sandbox
// (sandbox/export.ts), and the cleanup plan made and carried out (cleanup.ts).
import type { Request } from "./protocol.js";
import type { Progress } from "./handlers.js";
import { RuntimeError } from "../state/runtime-error.js";
import { sandboxContainerName } from "../sandbox/container-spec.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import { exportSandboxData } from "../sandbox/export.js";
import { applyCleanup, planCleanup } from "./cleanup.js";

export async function sandboxExport(driver: SandboxDriver, req: Extract<Request, { command: "sandbox.export" }>, progress: Progress) {
  await driver.registry.get(req.name);
  await driver.assertDocker();
  if ((await driver.containerState(req.name)) === "missing") {
    throw new RuntimeError("not-created", `sandbox ${req.name} has no container to export /sandbox from`, `start it once (\`openclaw nemoclaw ${req.name} start\`), then export again`);
  }
  progress("export", `copying /sandbox of ${req.name} to ${req.dir}`);
  const result = await exportSandboxData(driver.docker.getContainer(sandboxContainerName(req.name)), req.dir, (m) => progress("export", m));
  return { name: req.name, ...result };
}

export async function cleanupHandler(driver: SandboxDriver, req: Extract<Request, { command: "cleanup" }>, progress: Progress) {
  await driver.assertDocker();
  const options = { stateDir: req.stateDir, mode: req.mode, keepData: req.keepData, baseImage: req.baseImage, openclawDir: req.openclawDir };
  progress("plan", "looking for what nemoclaw made");
  const plan = await planCleanup(driver.docker, options);
  const outcome = req.apply ? await applyCleanup(driver.docker, options, plan, (m) => progress("remove", m)) : { removed: [], failed: [] };
  return { mode: req.mode, applied: req.apply, remove: plan.remove, keep: plan.keep, ...outcome };
}
