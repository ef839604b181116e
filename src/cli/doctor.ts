import type { Check } from "../../blueprint/runtime/protocol.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { describeProblem, verifyBlueprint } from "../blueprint/verify.js";
import { runBlueprint } from "../blueprint/run.js";
import { blueprintDir } from "../package-root.js";
import { printJson } from "./output.js";

/** Ports nemoclaw needs on the host's loopback: the OpenClaw gateway port, relayed from the sandbox. */
const HOST_PORTS = [18789];

const LABEL = { ok: "OK  ", warn: "WARN", fail: "FAIL" } as const;

export async function doctor(config: ResolvedConfig, opts: { json?: boolean }): Promise<void> {
  const verification = await verifyBlueprint(blueprintDir);
  const blueprintCheck: Check = verification.ok
    ? { name: "Blueprint", status: "ok", detail: `${verification.manifest?.version} verified (digest ${verification.manifest?.digest.slice(0, 12)}…)` }
    : {
        name: "Blueprint",
        status: "fail",
        detail: verification.problems.map(describeProblem).join("; "),
        fix: "reinstall the plugin (`openclaw plugins install nemoclaw --force`)",
      };
  let checks: Check[] = [blueprintCheck];
  if (verification.ok) {
    const result = await runBlueprint(
      {
        command: "doctor",
        stateDir: config.stateDir,
        ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}),
        ports: HOST_PORTS,
        // Landlock is probed in a throwaway container of the sandbox image built on this base.
        baseImage: config.baseImage,
      },
      (p) => p.DoctorResultSchema,
    );
    checks = [...checks, ...result.checks];
  }
  const ok = checks.every((c) => c.status !== "fail");
  if (!ok) process.exitCode = 1;
  if (opts.json) {
    printJson({ ok, checks });
    return;
  }
  const lines = ["nemoclaw doctor", ""];
  for (const c of checks) {
    lines.push(`  ${LABEL[c.status]}  ${c.name}: ${c.detail}`);
    if (c.fix && c.status !== "ok") lines.push(`        fix: ${c.fix}`);
  }
  lines.push("", ok ? "  Ready." : "  Not ready: fix the FAIL lines above, then run `openclaw nemoclaw doctor` again.");
  process.stdout.write(`${lines.join("\n")}\n`);
}
