// A sandbox survives a reboot: on an engine of the test's own (test/helpers/own-dockerd.ts), a
// sandbox gets a file in /sandbox, a preset, an inference route to the stub and an approval
// decided "always"; then the host daemon is killed (SIGKILL), the engine is stopped and started
// again (a real dockerd restart), the /sandbox quota's loop device is detached and the run dir
// under /tmp wiped (what a reboot does), and one bare `openclaw nemoclaw start` brings it all
// back: checked through the launcher (exec), the policy and approvals verbs and the stub.
// A second sandbox, stopped on purpose before the restart, stays stopped.
import { execa } from "execa";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlRequest, stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { daemonPidFile, stateRunDir } from "../../blueprint/state/paths.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startOwnDockerd, type OwnDockerd } from "../helpers/own-dockerd.js";
import { until } from "../helpers/until.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const SECRET = "sk-proj-RESTARTsecret0123456789abcdefABCDEFghij";
const HOST = "restore.example.test";

/** One node program inside: what /sandbox holds, an inference call, a request to HOST (allowed by the approval). */
const probe = (port: number) => `
const fs = require("node:fs");
const out = { file: fs.existsSync("/sandbox/keep.txt") ? fs.readFileSync("/sandbox/keep.txt", "utf8") : null };
(async () => {
  const inf = await fetch("http://inference.local/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "routed", messages: [{ role: "user", content: "hi" }] }) });
  out.inference = [inf.status, await inf.text()];
  const up = await fetch("http://${HOST}:${port}/after");
  out.upstream = up.status;
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify({ ...out, error: String(e) })); });
`;

/** Detaches the loop device holding sandbox `name`'s /sandbox image (found by inode and device, as disk.ts does); returns how many. */
async function detachLoop(engine: OwnDockerd, name: string): Promise<number> {
  const image = path.join(engine.root, "data", "volumes", `nemoclaw-${name}-disk`, "_data", "sandbox.img");
  const me = (await execa("stat", ["-c", "%i %Hd:%Ld", image])).stdout.trim();
  const loops = (await execa("losetup", ["-l", "-n", "-O", "NAME,BACK-INO,BACK-MAJ:MIN"])).stdout.split("\n").map((l) => l.trim().split(/\s+/));
  const held = loops.filter(([, ino, mm]) => `${ino} ${mm}` === me).map(([dev]) => dev ?? "");
  for (const dev of held) await execa("losetup", ["-d", dev]);
  return held.length;
}

describe("a sandbox survives a daemon crash, a dockerd restart and a reboot", () => {
  let engine: OwnDockerd;
  let home: PluginHome;
  let stub: StubServer;
  let upstream: Upstream;
  const name = uniqueName("rst");
  const idle = uniqueName("rst-off");
  const cli = (args: string[], timeoutMs = 240_000) => home.run(args, { timeoutMs });

  beforeAll(async () => {
    stub = await startStub("openai", { tag: "restart" });
    upstream = await startHttpUpstream();
    engine = await startOwnDockerd("ndk-rs");
    home = await createPluginHome();
    await engine.copyImages([BASE_IMAGE, await ensureSandboxImage(dockerClient())]);
    home.env.DOCKER_HOST = engine.host;
    // The approved destination is the test's loopback upstream, under a name that never reaches DNS.
    await mkdir(home.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(home.stateDir, "egress.json"), JSON.stringify({ hostMap: { [HOST]: "127.0.0.1" }, approvalTimeoutMs: 120_000 }));
    for (const args of [["sandbox", "create", name], ["sandbox", "create", idle, "--disk", "0"]]) {
      const created = await cli(["nemoclaw", ...args], 300_000);
      if (created.exitCode !== 0) throw new Error(created.all);
    }
  }, 900_000);
  afterAll(async () => {
    // Everything the sandboxes made is in the engine's own data root, which goes with it; only
    // the loop device is the host kernel's.
    await stopDaemon(home.stateDir).catch(() => undefined);
    if (engine) await detachLoop(engine, name).catch(() => 0);
    await engine?.dispose();
    await home?.dispose();
    await stub?.close();
    await upstream?.close();
  });

  it("before: a file in /sandbox, a preset, a route with a stored key, an approval decided always, a sandbox stopped on purpose", async () => {
    for (const args of [
      ["credentials", "add", "openai", "--from-env", "NEMO_TEST_KEY"],
      [name, "inference", "set", "--provider", "openai", "--model", "stub-model", "--base-url", stub.baseUrl],
      [name, "policy", "add-preset", "pypi"],
      [idle, "stop"],
    ]) {
      const r = await home.run(["nemoclaw", ...args], { env: { NEMO_TEST_KEY: SECRET } });
      expect(r.exitCode, r.all).toBe(0);
    }
    // Held until the operator decides: the request waits in the background while the CLI approves it.
    const inside = cli(["nemoclaw", name, "exec", "--", "node", "-e", `require("node:fs").writeFileSync("/sandbox/keep.txt", "kept across restarts"); fetch("http://${HOST}:${upstream.port}/held").then((r) => console.log("held", r.status))`]);
    const approval = await until("the held request's approval", 120_000, async () => {
      const { approvals } = (await controlRequest(home.stateDir, "POST", "/egress/approvals/list", { sandbox: name })) as { approvals: Array<{ id: string; host: string }> };
      return approvals.find((a) => a.host === HOST);
    });
    const approved = await cli(["nemoclaw", "approve", approval.id, "--always", "--allow-ip", "127.0.0.1/32"]);
    expect(approved.exitCode, approved.all).toBe(0);
    const held = await inside;
    expect(held.exitCode, held.all).toBe(0);
    expect(held.stdout).toContain("held 200");
    expect(upstream.seen.map((s) => s.url)).toContain("/held");
  }, 900_000);

  it("after SIGKILL of the daemon, a dockerd restart, the loop device and run dir gone: bare `start` brings everything back", async () => {
    const pid = Number((await readFile(daemonPidFile(home.stateDir), "utf8")).trim());
    process.kill(pid, "SIGKILL");
    await until("the daemon to die", 10_000, async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    await engine.stop();
    // A reboot detaches loop devices.
    expect(await detachLoop(engine, name)).toBe(1);
    await rm(stateRunDir(home.stateDir), { recursive: true, force: true });
    await engine.start();
    // The engine really restarted: the containers are there, stopped.
    for (const n of [name, idle]) expect((await engine.docker.getContainer(`nemoclaw-${n}`).inspect()).State.Running).toBe(false);

    const started = Date.now();
    const start = await cli(["nemoclaw", "start", "--json"], 300_000);
    const seconds = (Date.now() - started) / 1000;
    expect(start.exitCode, start.all).toBe(0);
    const result = JSON.parse(start.stdout) as { ok: boolean; sandboxes: Array<{ name: string; outcome: string }> };
    expect(result.ok).toBe(true);
    // The quota's loop device is attached again. Under another device number the /sandbox volume
    // (which names the device) and the container holding it are remade from the record
    // ("recreated"); when the kernel hands out the same number the container just starts.
    expect(result.sandboxes).toEqual([
      { name, outcome: expect.stringMatching(/^(recreated|started)$/), gateway: null, error: null },
      { name: idle, outcome: "left-stopped", gateway: null, error: null },
    ]);
    expect((await engine.docker.getContainer(`nemoclaw-${idle}`).inspect()).State.Running).toBe(false);
    console.log(`bare start after the reboot: ${seconds.toFixed(1)} s (CLI included)`);

    const before = stub.requests.length;
    const inside = await cli(["nemoclaw", name, "exec", "--", "node", "-e", probe(upstream.port)], 120_000);
    expect(inside.exitCode, inside.all).toBe(0);
    const seen = JSON.parse(inside.stdout.trim().split("\n").at(-1) ?? "{}") as { file: string | null; inference: [number, string]; upstream: number };
    expect(seen.file).toBe("kept across restarts");
    expect(seen.inference[0]).toBe(200);
    expect(seen.inference[1]).toContain("restart says hi");
    expect(stub.requests.length).toBe(before + 1);
    expect(stub.requests.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
    // Allowed by the rule the approval added: no new approval was needed.
    expect(seen.upstream).toBe(200);
    expect(upstream.seen.map((s) => s.url)).toContain("/after");

    const policy = await cli(["nemoclaw", name, "policy", "get", "--json"]);
    expect(policy.exitCode, policy.all).toBe(0);
    const networks = (JSON.parse(policy.stdout) as { policy: { network_policies: Record<string, unknown> } }).policy.network_policies;
    expect(Object.keys(networks)).toEqual(expect.arrayContaining(["pypi", `approved_${HOST}_${upstream.port}`]));

    const approvals = await cli(["nemoclaw", "approvals", "--json"]);
    expect(approvals.exitCode, approvals.all).toBe(0);
    const listed = JSON.parse(approvals.stdout) as { approvals: unknown[]; decided: Array<{ sandbox: string; host: string; status: string }> };
    expect(listed.approvals).toEqual([]);
    expect(listed.decided).toEqual([expect.objectContaining({ sandbox: name, host: HOST, status: "allow-always" })]);
  }, 900_000);
});
