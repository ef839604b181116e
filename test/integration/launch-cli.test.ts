// Launch interception through the real OpenClaw CLI and the packed plugin: with
// `nemoclaw launch enable <name>`, the operator's own `openclaw gateway run` (and the service's
// `<wrapper> gateway --port N`) ends with the gateway inside the sandbox: same pid on the host,
// now the runtime's relay; /healthz through the relay; SIGTERM's, SIGINT's and SIGHUP's exit code comes back; no stale
// locks. The opt-out runs on the host and says so.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { dockerClient } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { repoRoot } from "../helpers/node24.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { freePort } from "../helpers/free-port.js";

/** `pid` and its live descendants, with their command lines (zombies have none and run nothing). */
function processTree(pid: number): Array<{ pid: number; cmdline: string }> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parents.set(Number(entry), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree.flatMap((p) => {
    try {
      return [{ pid: p, cmdline: readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ").trim() }];
    } catch {
      return [];
    }
  });
}

describe("`openclaw gateway run` on the host ends with the gateway inside the sandbox", () => {
  let home: PluginHome;
  const name = uniqueName("launch");
  // This machine is itself a container: OpenClaw would bind 0.0.0.0 and demand auth on the host.
  const hostFlags = ["--allow-unconfigured", "--bind", "loopback", "--auth", "none"];
  beforeAll(async () => {
    home = await createPluginHome();
    const created = await home.run(["nemoclaw", "sandbox", "create", name, "--gateway", "--json"], { timeoutMs: 300_000 });
    if (created.exitCode !== 0) throw new Error(created.all);
    const enabled = await home.run(["nemoclaw", "launch", "enable", name, "--json"]);
    if (enabled.exitCode !== 0) throw new Error(enabled.all);
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([name]);
  });

  /** What each test started: a test that fails half-way must not leave its gateway (and OpenClaw's owner lease on this state directory, held by that live pid) to the next. */
  const running = new Set<ReturnType<typeof execa>>();
  afterEach(async () => {
    for (const child of running) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      await child;
      clearTimeout(killer);
    }
    running.clear();
  }, 120_000);

  /**
   * Start `file args…` and wait until it printed `ready` and then 127.0.0.1:<port>/healthz
   * answered 200. Not /healthz alone: OpenClaw binds its port before it loads any plugin, and
   * its own /healthz answers in that window (its WebSocket connects are refused while start-up is
   * pending), so a 200 seen before the relaunch is the host's OpenClaw, not the sandbox.
   */
  async function startGateway(file: string, args: readonly string[], port: number, ready: RegExp, env: Record<string, string> = {}) {
    const child = execa(file, [...args], { env: { ...home.env, ...env }, extendEnv: false, reject: false, all: true, stdin: "ignore", timeout: 600_000 });
    running.add(child);
    let exited = false;
    void child.then(() => (exited = true));
    const out = { text: "" };
    child.all?.on("data", (c: Buffer) => (out.text += c.toString("utf8")));
    // Generous: the gateway inside starts in ~10 s on an idle machine, minutes on a shared one.
    const deadline = Date.now() + 600_000;
    while (!ready.test(out.text) || (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline || exited) {
        child.kill("SIGKILL");
        const done = await child;
        throw new Error(`the gateway never answered on ${port} after printing ${ready} (exit ${done.exitCode}):\n${done.all}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    return { child, out, pid: child.pid ?? 0 };
  }
  /** What the runtime prints once its relay listens on `port`. */
  const relayed = (port: number) => new RegExp(`gateway of sandbox ${name} on http://127\\.0\\.0\\.1:${port} `);

  const lockDir = () => path.join(home.env.OPENCLAW_STATE_DIR ?? "", "tmp", `openclaw-${process.getuid?.() ?? 0}`);
  const locks = () => {
    try {
      return readdirSync(lockDir()).filter((f) => f.endsWith(".lock"));
    } catch {
      return [];
    }
  };
  const openclaw = path.join(repoRoot, "node_modules/.bin/openclaw");

  it("runs it in the sandbox behind a relay; SIGTERM (and, the next launch, SIGHUP) stops it there and its exit code comes back; no stale locks", async () => {
    const port = await freePort();
    const { child, out, pid } = await startGateway(openclaw, ["gateway", "run", "--port", String(port), ...hostFlags], port, relayed(port));

    // Same pid, now the runtime's foreground gateway; nothing of OpenClaw's gateway on the host.
    const tree = processTree(pid);
    expect(tree[0]?.cmdline).toMatch(/dist\/blueprint\/runtime\/main\.js launch \{"command":"sandbox\.gateway"/);
    expect(tree.filter((p) => /openclaw-gateway|openclaw\.mjs|openclaw\/dist/.test(p.cmdline)), JSON.stringify(tree)).toEqual([]);
    expect(locks()).toEqual([]);
    // The gateway runs in the container (its workload, under the supervisor).
    const top = await dockerClient().getContainer(sandboxContainerName(name)).top({ ps_args: "-eo pid,args" });
    expect(top.Processes.some((p: string[]) => p.join(" ").includes("openclaw-gateway") || p.join(" ").includes("openclaw.mjs gateway run"))).toBe(true);
    expect(out.text).toMatch(/nemoclaw: relaunching this gateway inside sandbox/);
    expect(out.text).toMatch(new RegExp(`gateway of sandbox ${name} on http://127\\.0\\.0\\.1:${port}`));

    process.kill(pid, "SIGTERM");
    const done = await child;
    const info = await dockerClient().getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(false);
    expect(info.State.ExitCode).toBe(143);
    expect(done.exitCode, done.all).toBe(143);
    expect(out.text).toMatch(/nemoclaw-supervisor: workload exited \(code 143\)/);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, (e: Error) => e.name)).toBe("TypeError");

    // A second launch afterwards works (nothing left holding the port, the locks or the sandbox).
    // SIGHUP (the terminal closed) stops it the same way: OpenClaw's gateway has no SIGHUP
    // handler, so the host process must not die of it and leave the sandbox running.
    const again = await startGateway(openclaw, ["gateway", "--port", String(port), ...hostFlags], port, relayed(port));
    await expectStopsOn(again, "SIGHUP", port);
  }, 900_000);

  /** `signal` to the host pid: the sandbox stops, its exit code is the process's, the relay is gone. */
  async function expectStopsOn(gateway: Awaited<ReturnType<typeof startGateway>>, signal: NodeJS.Signals, port: number) {
    process.kill(gateway.pid, signal);
    const done = await gateway.child;
    const info = await dockerClient().getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(false);
    // 143 when the gateway ended on the SIGTERM of `docker stop`, 137 when its shutdown outlasted
    // the stop grace on a loaded machine.
    expect([143, 137]).toContain(info.State.ExitCode);
    expect(done.signal, done.all).toBeUndefined();
    expect(done.exitCode, done.all).toBe(info.State.ExitCode);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, (e: Error) => e.name)).toBe("TypeError");
  }

  it("SIGUSR2 restarts the gateway inside (the host process stays, relaying); SIGINT (Ctrl-C) stops it and its exit code comes back", async () => {
    const port = await freePort();
    const gateway = await startGateway(openclaw, ["gateway", "run", "--port", String(port), ...hostFlags], port, relayed(port));
    const container = dockerClient().getContainer(sandboxContainerName(name));
    const startedAt = (await container.inspect()).State.StartedAt;
    const seenAt = gateway.out.text.length;
    process.kill(gateway.pid, "SIGUSR2");
    // Into the container (tini and the supervisor pass it on): the gateway says so, in process.
    const restarted = /\[gateway\] received SIGUSR2; restarting[\s\S]*restart mode: in-process restart/;
    for (const deadline = Date.now() + 120_000; !restarted.test(gateway.out.text.slice(seenAt)) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 500));
    expect(gateway.out.text.slice(seenAt)).toMatch(restarted);
    for (const deadline = Date.now() + 300_000; (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)) !== 200 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 1000));
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)).toBe(200);
    expect(processTree(gateway.pid)[0]?.cmdline).toMatch(/runtime\/main\.js launch /);
    const info = await container.inspect();
    expect(info.State.Running).toBe(true);
    expect(info.State.StartedAt).toBe(startedAt);

    await expectStopsOn(gateway, "SIGINT", port);
  }, 900_000);

  it("the service command line `<wrapper> gateway --port N` does the same", async () => {
    const wrapper = path.join(home.env.OPENCLAW_STATE_DIR ?? "", "extensions", "nemoclaw", "bin", "nemoclaw-gateway-wrapper");
    const port = await freePort();
    const { child, pid } = await startGateway(wrapper, ["gateway", "--port", String(port), ...hostFlags], port, relayed(port), { NEMOCLAW_OPENCLAW: openclaw });
    expect(processTree(pid)[0]?.cmdline).toMatch(/runtime\/main\.js launch /);
    process.kill(pid, "SIGTERM");
    const done = await child;
    // The gateway's own code comes back: 143 when it ended on the SIGTERM, 137 when its shutdown
    // outlasted the sandbox's 10 s stop grace on a loaded machine.
    const info = await dockerClient().getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(false);
    expect([143, 137]).toContain(info.State.ExitCode);
    expect(done.exitCode, done.all).toBe(info.State.ExitCode);
  }, 900_000);

  it("NEMOCLAW_NO_SANDBOX=1 runs it on the host and warns", async () => {
    const port = await freePort();
    // OpenClaw logs "http server listening" once its start-up plugins are loaded, so after our
    // register() has decided (and warned).
    const { child, out, pid } = await startGateway(openclaw, ["gateway", "run", "--port", String(port), ...hostFlags], port, /http server listening/, { NEMOCLAW_NO_SANDBOX: "1" });
    // The warning goes to stderr, the log line to stdout: the test reads the two pipes on their
    // own, so on a loaded machine the warning can arrive after it.
    const warning = /WARNING: this OpenClaw gateway runs ON THE HOST, NOT in a sandbox \(NEMOCLAW_NO_SANDBOX=1 is set\)/;
    for (const deadline = Date.now() + 30_000; !warning.test(out.text) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 200));
    expect(out.text).toMatch(warning);
    expect(processTree(pid)[0]?.cmdline).toMatch(/^openclaw-gateway/);
    const info = await dockerClient().getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(false);
    process.kill(pid, "SIGTERM");
    await child;
  }, 900_000);
});
