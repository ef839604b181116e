// A gateway sandbox through the real `openclaw nemoclaw …` CLI with the packed plugin:
// `sandbox create --gateway`, then the foreground `<name> gateway` verb, which relays the
// sandboxed gateway's port to the host's loopback, streams its output, stops the sandbox on
// SIGTERM and exits with the sandbox's exit code.
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { repoRoot } from "../helpers/node24.js";
import { createOpenclawHome, installPlugin, type OpenclawHome } from "../helpers/openclaw.js";

describe("a gateway sandbox through the real OpenClaw CLI", () => {
  let home: OpenclawHome;
  const name = uniqueName("gwcli");
  beforeAll(async () => {
    process.env.NEMOCLAW_BASE_IMAGE ??= BASE_IMAGE;
    await ensureSandboxImage(dockerClient());
    home = await createOpenclawHome();
    await installPlugin(home);
  }, 900_000);
  afterAll(async () => {
    await home?.run(["nemoclaw", name, "destroy", "--yes"]);
    await stopDaemon(path.join(home.env.OPENCLAW_STATE_DIR ?? "", "nemoclaw")).catch(() => undefined);
    await home?.dispose();
  });

  it("create --gateway; `gateway` relays it to the host, streams it, and SIGTERM brings its exit code back", async () => {
    const created = await home.run(["nemoclaw", "sandbox", "create", name, "--gateway", "--json"], { timeoutMs: 300_000 });
    expect(created.exitCode, created.all).toBe(0);

    // OpenClaw's CLI respawns itself and, on SIGTERM, SIGKILLs its child after 2 s (entry.respawn:
    // 1 s grace, SIGTERM, 1 s, SIGKILL); the gateway's shutdown inside takes longer. Without the
    // respawn the CLI process is the one that waits for the sandbox and exits with its code.
    const child = execa(path.join(repoRoot, "node_modules/.bin/openclaw"), ["nemoclaw", name, "gateway", "--port", "0"], {
      env: { ...home.env, OPENCLAW_NO_RESPAWN: "1" },
      extendEnv: false,
      reject: false,
      all: true,
      stdin: "ignore",
      timeout: 600_000,
    });
    let exited = false;
    void child.then(() => (exited = true));
    let output = "";
    child.all?.on("data", (c: Buffer) => (output += c.toString("utf8")));
    const deadline = Date.now() + 300_000;
    let base: string | undefined;
    for (;;) {
      base ??= /gateway of sandbox \S+ on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (base && (await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) break;
      if (Date.now() > deadline || exited) {
        child.kill("SIGTERM");
        const done = await child;
        throw new Error(`the relayed gateway never became ready (exit ${done.exitCode}):\n${done.all}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    child.kill("SIGTERM");
    const done = await child;
    const info = await dockerClient().getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(false);
    expect(done.exitCode).toBe(info.State.ExitCode);
    // The sandbox's output reached this terminal: the supervisor's lines and the gateway's own.
    expect(output).toMatch(/nemoclaw-supervisor: workload started \(pid \d+\)/);
    expect(output).toMatch(/nemoclaw-supervisor: workload exited/);
    // The port is gone with it.
    expect(await fetch(`${base}/healthz`).then((r) => r.status, (e: Error) => e.name)).toBe("TypeError");
  }, 900_000);
});
