// What the operator last asked of a sandbox (`<stateDir>/sandboxes/<name>/intent.json`): keep it
// running or leave it stopped, and, for a gateway sandbox run in the background, the host port
// its relay had. A bare `openclaw nemoclaw start` (runtime/restore.ts) reads it after a daemon
// crash, a dockerd restart or a reboot to bring back what was up, each relay on its old port.
// Only the operator's verbs write it (`<name> start|stop`, `start|stop [name]`); a dockerd
// restart or a crash never does, so what they stopped comes back. No file: wanted running
// (`sandbox create` starts the sandbox), no relay.
import { z } from "zod";
import { sandboxIntentFile } from "../state/paths.js";
import { StateFile } from "../state/state-file.js";

export const SandboxIntentSchema = z
  .object({
    version: z.literal(1),
    wanted: z.enum(["running", "stopped"]),
    /** The host loopback port of its background relay (`openclaw nemoclaw start <name>`), kept once known. */
    relayPort: z.number().int().min(1).max(65535).nullable(),
    updatedAt: z.string(),
  })
  .strict();
export type SandboxIntent = z.infer<typeof SandboxIntentSchema>;

function file(stateDir: string, name: string): StateFile<SandboxIntent> {
  return new StateFile(sandboxIntentFile(stateDir, name), SandboxIntentSchema);
}

export function readIntent(stateDir: string, name: string): Promise<SandboxIntent> {
  return file(stateDir, name).read(
    () => ({ version: 1, wanted: "running", relayPort: null, updatedAt: new Date(0).toISOString() }),
    `run \`openclaw nemoclaw ${name} start\` or \`stop\` to record it again`,
  );
}

/** Records `wanted` (and the relay's port when given); the port is kept otherwise. */
export async function recordIntent(stateDir: string, name: string, change: { wanted: SandboxIntent["wanted"]; relayPort?: number }): Promise<void> {
  const current = await readIntent(stateDir, name).catch(() => undefined);
  await file(stateDir, name).write({
    version: 1,
    wanted: change.wanted,
    relayPort: change.relayPort ?? current?.relayPort ?? null,
    updatedAt: new Date().toISOString(),
  });
}
