// The installed gateway service after a reboot: what the service manager runs at boot,
// `<wrapper> gateway --port N`, on an engine of the test's own (test/helpers/own-dockerd.ts) that
// the test really restarts, with the host daemon killed (SIGKILL) and the run dir under /tmp
// wiped (what a reboot does). The service alone brings the gateway sandbox back (its gateway
// answers on N through the relay) and the other sandbox that was running (restore.ts), whose
// egress path is served again; no `openclaw nemoclaw start` is typed.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { daemonPidFile, stateRunDir } from "../../blueprint/state/paths.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { freePort } from "../helpers/free-port.js";
import { startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { repoRoot } from "../helpers/node24.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startOwnDockerd, type OwnDockerd } from "../helpers/own-dockerd.js";
import { until } from "../helpers/until.js";

const HOST = "service.example.test";

describe("the gateway service brings the sandboxes back after a reboot", () => {
  let engine: OwnDockerd;
  let home: PluginHome;
  let upstream: Upstream;
  const gateway = uniqueName("svc-gw");
  const plain = uniqueName("svc");
  const hostFlags = ["--allow-unconfigured", "--bind", "loopback", "--auth", "none"];
  /** A request from inside the plain sandbox to a host its policy does not list. */
  const egressProbe = async (): Promise<string> => {
    // Absolute-form to the forwarder, as any HTTP proxy client sends it.
    const url = `http://${HOST}:${upstream.port}/x`;
    const script = `require("http").get({ host: "127.0.0.1", port: 3128, path: ${JSON.stringify(url)}, headers: { host: new URL(${JSON.stringify(url)}).host } }, (r) => { r.resume(); console.log("status", r.statusCode); }).on("error", (e) => console.log("error", e.code ?? e.message))`;
    const r = await home.run(["nemoclaw", plain, "exec", "--", "node", "-e", script], { timeoutMs: 120_000 });
    return r.all;
  };

  beforeAll(async () => {
    upstream = await startHttpUpstream();
    engine = await startOwnDockerd("ndk-sv");
    home = await createPluginHome();
    await engine.copyImages([BASE_IMAGE, await ensureSandboxImage(dockerClient())]);
    home.env.DOCKER_HOST = engine.host;
    await mkdir(home.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(home.stateDir, "egress.json"), JSON.stringify({ hostMap: { [HOST]: "127.0.0.1" }, approvalTimeoutMs: 1_000 }));
    for (const args of [["sandbox", "create", gateway, "--gateway", "--disk", "0"], ["sandbox", "create", plain, "--disk", "0"], ["launch", "enable", gateway]]) {
      const r = await home.run(["nemoclaw", ...args], { timeoutMs: 600_000 });
      if (r.exitCode !== 0) throw new Error(r.all);
    }
    // Before the reboot: refused by the gateway's policy (the probe's positive control).
    const before = await egressProbe();
    if (!before.includes("status 403")) throw new Error(`before the reboot the probe got: ${before}`);
  }, 1_200_000);
  afterAll(async () => {
    await stopDaemon(home.stateDir).catch(() => undefined);
    await engine?.dispose();
    await home?.dispose();
    await upstream?.close();
  });

  it("after SIGKILL of the daemon, a dockerd restart and the run dir gone, `<wrapper> gateway --port N` restores both", async () => {
    const pid = Number((await readFile(daemonPidFile(home.stateDir), "utf8")).trim());
    process.kill(pid, "SIGKILL");
    await engine.stop();
    await rm(stateRunDir(home.stateDir), { recursive: true, force: true });
    await engine.start();
    for (const n of [gateway, plain]) expect((await engine.docker.getContainer(`nemoclaw-${n}`).inspect()).State.Running).toBe(false);

    const wrapper = path.join(home.env.OPENCLAW_STATE_DIR ?? "", "extensions", "nemoclaw", "bin", "nemoclaw-gateway-wrapper");
    const port = await freePort();
    const service = execa(wrapper, ["gateway", "--port", String(port), ...hostFlags], {
      env: { ...home.env, NEMOCLAW_OPENCLAW: path.join(repoRoot, "node_modules/.bin/openclaw") },
      extendEnv: false,
      reject: false,
      all: true,
      stdin: "ignore",
      timeout: 900_000,
    });
    let exited = false;
    void service.then(() => (exited = true));
    let out = "";
    service.all?.on("data", (c: Buffer) => (out += c.toString("utf8")));
    // OpenClaw's own /healthz answers on the port before our plugin relaunches it: only a 200
    // after the runtime says its relay is up is the sandboxed gateway's.
    const relayed = new RegExp(`gateway of sandbox ${gateway} on http://127\\.0\\.0\\.1:${port} `);
    try {
      // The gateway inside starts in ~10 s on an idle machine, minutes on a shared one.
      const answered = await until("the gateway to answer through the relay", 600_000, async () => {
        if (exited) return "the service exited";
        if (!relayed.test(out)) return undefined;
        return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })).status === 200 ? "ok" : undefined;
      }).catch((e: Error) => e.message);
      if (answered !== "ok") {
        service.kill("SIGKILL");
        throw new Error(`${answered}:\n${(await service).all}`);
      }
      // The other sandbox came back too, with its egress path: a request to a host its policy
      // does not list is refused by the gateway (403), not left without a proxy (503).
      await until("the other sandbox to run", 300_000, async () => ((await engine.docker.getContainer(`nemoclaw-${plain}`).inspect()).State.Running ? true : undefined));
      const probe = await until("the other sandbox's egress", 120_000, async () => {
        const r = await egressProbe();
        return /status 403/.test(r) ? r : undefined;
      });
      expect(probe).toContain("status 403");
      expect(upstream.seen).toEqual([]);
    } finally {
      service.kill("SIGTERM");
      await service;
    }
  }, 1_500_000);
});
