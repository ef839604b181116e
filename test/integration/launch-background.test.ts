// `openclaw nemoclaw start|stop|restart <name>` through the real CLI: the sandboxed gateway in the
// background, its port relayed on 127.0.0.1 by the daemon after the CLI has exited.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { dockerClient } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";

async function listenAny(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

describe("start / stop / restart: the sandboxed gateway in the background", () => {
  let home: PluginHome;
  const name = uniqueName("launchbg");
  beforeAll(async () => {
    home = await createPluginHome();
    const created = await home.run(["nemoclaw", "sandbox", "create", name, "--gateway", "--json"], { timeoutMs: 300_000 });
    if (created.exitCode !== 0) throw new Error(created.all);
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([name]);
  });

  it("start relays it after the CLI exits; restart starts a new run; stop ends relay and sandbox", async () => {
    const held = await listenAny();
    const port = (held.address() as net.AddressInfo).port;
    // Taken port: a clear refusal, nothing left listening for us.
    const refused = await home.run(["nemoclaw", "start", name, "--port", String(port), "--json"], { timeoutMs: 600_000 });
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout).error.message).toBe(`127.0.0.1:${port} is already in use on this host`);
    await new Promise((resolve) => held.close(resolve));

    const started = await home.run(["nemoclaw", "start", name, "--port", String(port), "--json"], { timeoutMs: 600_000 });
    expect(started.exitCode, started.all).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ ok: true, name, port, url: `http://127.0.0.1:${port}`, ready: true });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await controlRequest(home.stateDir, "GET", "/relays")).toEqual({ relays: [{ name, port }] });
    const container = dockerClient().getContainer(sandboxContainerName(name));
    const firstRun = (await container.inspect()).State.StartedAt;

    const restarted = await home.run(["nemoclaw", "restart", name, "--port", String(port), "--json"], { timeoutMs: 600_000 });
    expect(restarted.exitCode, restarted.all).toBe(0);
    expect(JSON.parse(restarted.stdout)).toMatchObject({ ok: true, ready: true, alreadyRunning: false });
    expect((await container.inspect()).State.StartedAt).not.toBe(firstRun);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const stopped = await home.run(["nemoclaw", "stop", name, "--json"], { timeoutMs: 300_000 });
    expect(stopped.exitCode, stopped.all).toBe(0);
    expect(JSON.parse(stopped.stdout)).toEqual({ ok: true, name, wasRunning: true, relayClosed: true });
    expect((await container.inspect()).State.Running).toBe(false);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, (e: Error) => e.name)).toBe("TypeError");
    expect(await controlRequest(home.stateDir, "GET", "/relays")).toEqual({ relays: [] });
  }, 1_200_000);
});
