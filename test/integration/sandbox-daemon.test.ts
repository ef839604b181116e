// The host daemon: its control API, one daemon per state dir, and the egress path failing
// closed when it dies, then coming back for running sandboxes without recreating them.
import { readFile, stat } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DaemonRunningError, startDaemon } from "../../blueprint/runtime/daemon.js";
import { controlRequest, daemonHealth, ensureDaemon, stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { refuseAllEgress } from "../helpers/refuse-all-egress.js";
import { controlSocketFile, daemonPidFile, proxySocketFile } from "../../blueprint/state/paths.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";

/** Snippet: one proxy request through the forwarder; prints the status code (or the error). */
const PROXY_REQUEST = `
  const c = require("net").connect(3128, "127.0.0.1", () => c.write("GET http://example.com/ HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n"));
  let got = ""; c.on("data", (d) => (got += d));
  c.on("end", () => console.log(got.split("\\r\\n")[0] + " " + (got.split("\\r\\n\\r\\n")[1] ?? "")));
  c.on("error", (e) => console.log("error " + e.code));`;

/** Polls `read` until `check` holds, up to `ms`; returns the last value (the caller asserts on it). */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

/** Whether `pid` still exists (a SIGKILLed child is gone once reaped). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function rawControl(stateDir: string, method: string, path: string, body?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: controlSocketFile(stateDir), method, path }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("control API and the one-daemon rule", () => {
  let h: SandboxHarness;
  beforeAll(async () => {
    h = await createSandboxHarness();
  }, 900_000);
  afterAll(async () => h?.dispose());

  it("answers GET /health on a 0600 socket, and writes its pid file", async () => {
    const health = await daemonHealth(h.stateDir);
    expect(health).toMatchObject({ ok: true, pid: process.pid, egress: "custom", sandboxes: [] });
    expect((await stat(controlSocketFile(h.stateDir))).mode & 0o777).toBe(0o600);
    expect((await readFile(daemonPidFile(h.stateDir), "utf8")).trim()).toBe(String(process.pid));
  });

  it("routes with zod-checked bodies: 404 lists routes, 405 names methods, 400 names the field", async () => {
    h.daemon!.router.addRoute("POST", "/test/echo", (body) => ({ got: body.word }), z.object({ word: z.string() }).strict());
    expect(await controlRequest(h.stateDir, "POST", "/test/echo", { word: "hi" })).toEqual({ got: "hi" });
    const missing = await rawControl(h.stateDir, "GET", "/nope");
    expect(missing.status).toBe(404);
    expect((missing.body as { hint: string }).hint).toContain("/health");
    expect((await rawControl(h.stateDir, "DELETE", "/health")).status).toBe(405);
    const bad = await rawControl(h.stateDir, "POST", "/test/echo", JSON.stringify({ word: 3 }));
    expect(bad).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^invalid request body: word: /) } });
    expect((await rawControl(h.stateDir, "POST", "/test/echo", "{not json")).status).toBe(400);
  });

  it("refuses a second daemon for the same state dir", async () => {
    await expect(startDaemon({ stateDir: h.stateDir, egress: refuseAllEgress(h.stateDir), log: () => {} })).rejects.toBeInstanceOf(DaemonRunningError);
    expect((await daemonHealth(h.stateDir))?.pid).toBe(process.pid);
  });
});

describe("egress fails closed when the daemon dies, and comes back for running sandboxes", () => {
  let h: SandboxHarness;
  let name: string;
  beforeAll(async () => {
    h = await createSandboxHarness();
    name = (await h.create("dmn")).name;
  }, 900_000);
  afterAll(async () => h?.dispose());

  const egress = async (): Promise<string> => (await h.exec(name, ["node", "-e", PROXY_REQUEST])).stdout.trim();

  it("restarting the daemon re-creates the socket in the bind-mounted dir; the same container reconnects", async () => {
    const containerBefore = (await h.driver.status(name)).container;
    expect(await egress()).toMatch(/^HTTP\/1\.1 403 Forbidden .*egress gateway not enabled/);

    await h.daemon!.close();
    h.daemon = undefined;
    // The daemon removes its socket on the way out: the forwarder answers 503, nothing gets out.
    expect(await egress()).toMatch(/^HTTP\/1\.1 503 Service Unavailable .*nemoclaw egress unavailable.*ENOENT/);
    expect((await h.driver.status(name)).egress).toBe("not served: egress is closed");

    await h.startDaemon();
    expect(await egress()).toMatch(/^HTTP\/1\.1 403 Forbidden .*egress gateway not enabled/);
    expect((await h.driver.status(name)).container).toBe(containerBefore);
  }, 300_000);

  it("a killed daemon (SIGKILL, socket file left behind) also fails closed; start brings a detached one back", async () => {
    // Hand over to a detached daemon like the CLI uses, then kill it without warning.
    await h.daemon!.close();
    h.daemon = undefined;
    const started = await ensureDaemon(h.stateDir);
    expect(started.pid).not.toBe(process.pid);
    // The daemon answers /health as soon as its control socket listens, then re-serves the
    // sandboxes it finds: wait for that, not for a fixed time.
    const health = await until(async () => daemonHealth(h.stateDir), (x) => x?.sandboxes.includes(name) === true);
    expect(health?.pid).toBe(started.pid);
    expect(health?.sandboxes).toContain(name);
    process.kill(started.pid, "SIGKILL");
    expect(await until(async () => alive(started.pid), (x) => !x)).toBe(false);
    expect((await stat(proxySocketFile(h.stateDir, name))).isSocket()).toBe(true);
    expect(await egress()).toMatch(/^HTTP\/1\.1 503 .*ECONNREFUSED/);

    // `start` on a running sandbox makes sure the daemon serves it again.
    expect(await h.driver.start(name)).toEqual({ recreated: false, alreadyRunning: true });
    const again = await until(async () => daemonHealth(h.stateDir), (x) => x?.sandboxes.includes(name) === true);
    expect(again?.pid).not.toBe(started.pid);
    expect(again?.sandboxes).toContain(name);
    // The detached daemon plugs in whatever egress handler this build has (the gateway, once it
    // exists), so this only checks the socket answers again.
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(proxySocketFile(h.stateDir, name), () => {
        s.destroy();
        resolve();
      });
      s.on("error", reject);
    });
    expect(await stopDaemon(h.stateDir)).toBe(true);
    expect(await daemonHealth(h.stateDir)).toBeUndefined();
  }, 300_000);
});
