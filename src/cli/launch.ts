import type { ResolvedConfig } from "../config/resolve.js";
import { disableLaunch, enableLaunch } from "../launch/enable.js";
import { printJson } from "./output.js";

/** `openclaw nemoclaw launch enable <name>`: `openclaw gateway` runs in that sandbox from now on. */
export async function launchEnable(name: string, opts: { json?: boolean }): Promise<void> {
  await enableLaunch(name);
  if (opts.json) printJson({ ok: true, launch: { sandbox: name, enabled: true } });
  else process.stdout.write(`\`openclaw gateway\` and the gateway service now run inside sandbox ${name}\n`);
}

/** `openclaw nemoclaw launch disable`: the gateway runs on the host again, warned about on every launch. */
export async function launchDisable(config: ResolvedConfig, opts: { json?: boolean }): Promise<void> {
  await disableLaunch(config.launch);
  const launch = config.launch ? { ...config.launch, enabled: false } : null;
  if (opts.json) printJson({ ok: true, launch });
  else process.stdout.write(launch ? `\`openclaw gateway\` runs ON THE HOST again (unsandboxed; it warns on every launch)\n` : "launch interception was not set up\n");
}
