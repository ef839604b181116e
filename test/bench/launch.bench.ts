// `npm run bench`: how long `openclaw gateway run` takes to answer /readyz when launch
// interception runs it in the sandbox (host gateway up to register(), execve, sandbox start, the
// gateway inside, through the relay) against the same command run on the host
// (NEMOCLAW_NO_SANDBOX=1), interleaved in the same run. Prints medians and their ratio.
import path from "node:path";
import { execa } from "execa";
import { test } from "vitest";
import { uniqueName } from "../helpers/docker-run.js";
import { repoRoot } from "../helpers/node24.js";
import { createPluginHome } from "../helpers/openclaw.js";
import { freePort } from "../helpers/free-port.js";

const ROUNDS = 3;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

test("sandboxed gateway ready vs host gateway ready", async () => {
  const home = await createPluginHome();
  const name = uniqueName("launchbench");
  const openclaw = path.join(repoRoot, "node_modules/.bin/openclaw");
  // This machine is itself a container: OpenClaw would bind 0.0.0.0 and demand auth on the host.
  const hostFlags = ["--allow-unconfigured", "--bind", "loopback", "--auth", "none"];
  try {
    const created = await home.run(["nemoclaw", "sandbox", "create", name, "--gateway"], { timeoutMs: 300_000 });
    if (created.exitCode !== 0) throw new Error(created.all);
    await home.run(["nemoclaw", name, "stop"], { timeoutMs: 120_000 });
    await home.run(["nemoclaw", "launch", "enable", name]);

    /** Spawn → /readyz 200, then SIGTERM and wait for the exit. */
    const readyMs = async (env: Record<string, string>): Promise<number> => {
      const port = await freePort();
      const started = performance.now();
      const child = execa(openclaw, ["gateway", "run", "--port", String(port), ...hostFlags], { env: { ...home.env, ...env }, extendEnv: false, reject: false, all: true, stdin: "ignore" });
      let exited = false;
      void child.then(() => (exited = true));
      while ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) !== 200) {
        if (exited || performance.now() - started > 600_000) throw new Error(`never ready:\n${(await child).all}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const elapsed = performance.now() - started;
      child.kill("SIGTERM");
      await child;
      return elapsed;
    };
    const sandboxed: number[] = [];
    const host: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      sandboxed.push(await readyMs({}));
      host.push(await readyMs({ NEMOCLAW_NO_SANDBOX: "1" }));
    }
    const fmt = (xs: number[]) => `${(median(xs) / 1000).toFixed(1)} s median of ${ROUNDS} (min ${(Math.min(...xs) / 1000).toFixed(1)}, max ${(Math.max(...xs) / 1000).toFixed(1)})`;
    console.log(
      [
        "",
        "Gateway ready (`openclaw gateway run` → /readyz 200)",
        "",
        `  In the sandbox (launch interception, stopped sandbox): ${fmt(sandboxed)}`,
        `  On the host (NEMOCLAW_NO_SANDBOX=1): ${fmt(host)}`,
        `  Ratio: ${(median(sandboxed) / median(host)).toFixed(2)}x host (goal ≤ 1.2x, issue 10)`,
        "",
      ].join("\n"),
    );
  } finally {
    await home.teardown([name]);
  }
}, 3_600_000);
