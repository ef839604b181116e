// A gateway sandbox through the real `openclaw nemoclaw …` CLI with the packed plugin:
// `sandbox create --gateway`, then the foreground `<name> gateway` verb, which relays the
// sandboxed gateway's port to the host's loopback, streams its output, stops the sandbox on
// SIGTERM and exits with the sandbox's exit code.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { dockerClient } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { repoRoot } from "../helpers/node24.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";

describe("a gateway sandbox through the real OpenClaw CLI", () => {
  let home: PluginHome;
  const name = uniqueName("gwcli");
  beforeAll(async () => {
    home = await createPluginHome();
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([name]);
  });

  /** `openclaw nemoclaw <name> gateway --port 0`, once its relayed gateway answers /readyz. */
  async function startVerb() {
    // OpenClaw's CLI respawns itself and, on SIGTERM, SIGKILLs its child after 2 s (entry.respawn);
    // without the respawn the signal reaches the process running the verb.
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
    const out = { text: "" };
    child.all?.on("data", (c: Buffer) => (out.text += c.toString("utf8")));
    const deadline = Date.now() + 300_000;
    let base: string | undefined;
    for (;;) {
      base ??= /gateway of sandbox \S+ on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text)?.[1];
      if (base && (await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) break;
      if (Date.now() > deadline || exited) {
        child.kill("SIGTERM");
        const done = await child;
        throw new Error(`the relayed gateway never became ready (exit ${done.exitCode}):\n${done.all}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    return { child, base, out };
  }

  it("create --gateway; `gateway` relays it to the host's loopback, streams its output and exits with the sandbox's code", async () => {
    const created = await home.run(["nemoclaw", "sandbox", "create", name, "--gateway", "--json"], { timeoutMs: 300_000 });
    expect(created.exitCode, created.all).toBe(0);
    const { child, base, out } = await startVerb();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // It says how the host's CLI authenticates (the token file, read into the environment), never the token.
    const token = (await readFile(path.join(home.stateDir, "sandboxes", name, "gateway.token"), "utf8")).trim();
    expect(out.text).toContain(`export OPENCLAW_GATEWAY_URL=${base.replace("http:", "ws:")} OPENCLAW_GATEWAY_TOKEN="$(cat '${path.join(home.stateDir, "sandboxes", name, "gateway.token")}')"`);
    expect(out.text).not.toContain(token);

    // inference set on the running gateway sandbox rewrites its OpenClaw config (the e2e suite proves the switch live).
    const set = await home.run(["nemoclaw", name, "inference", "set", "--provider", "ollama", "--model", "qwen3:8b", "--base-url", "http://127.0.0.1:9", "--json"]);
    expect(set.exitCode, set.all).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ primary: "nemoclaw-openai/routed", gatewayConfig: "updated" });

    // Stopped from elsewhere: the verb ends with the sandbox's exit code.
    expect((await home.run(["nemoclaw", name, "stop"], { timeoutMs: 120_000 })).exitCode).toBe(0);
    const done = await child;
    const info = await dockerClient().getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(false);
    expect(done.exitCode).toBe(info.State.ExitCode);
    expect(out.text).toMatch(/nemoclaw-supervisor: workload started \(pid \d+\)/);
    expect(out.text).toMatch(/nemoclaw-supervisor: workload exited/);
    expect(await fetch(`${base}/healthz`).then((r) => r.status, (e: Error) => e.name)).toBe("TypeError");
  }, 900_000);

  it("SIGTERM to the verb stops the sandboxed gateway", async () => {
    const { child } = await startVerb();
    child.kill("SIGTERM");
    await child;
    // OpenClaw's CLI ends on the signal without waiting for the runtime (docs/architecture.md),
    // which goes on stopping the sandbox: wait for the container's exit rather than race it.
    const container = dockerClient().getContainer(sandboxContainerName(name));
    await Promise.race([container.wait(), new Promise((r) => setTimeout(r, 60_000))]);
    const info = await container.inspect();
    expect(info.State.Running).toBe(false);
    // The gateway got SIGTERM from the supervisor (128 + 15), not Docker's SIGKILL (137).
    expect(info.State.ExitCode).toBe(143);
  }, 900_000);
});
