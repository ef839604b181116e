// Remote mode (docs/architecture.md, "Remote engines") on a second dockerd this file starts, with
// remote mode FORCED although that engine is local: nothing is bind-mounted from the host, the
// CA goes in through the Engine API, and the proxy socket is carried over one exec's stdio by the
// engine relay. Egress through the real gateway is allowed and refused as on a local engine,
// every layer is in force, the workload cannot reach the relay, and a restart heals the path.
// A gateway sandbox there runs OpenClaw's gateway, reached from the host over the same exec.
import { readFile, stat, writeFile } from "node:fs/promises";
import type net from "node:net";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { startHostRelay } from "../../blueprint/runtime/gateway-relay.js";
import { toolShellArgv } from "../../blueprint/sandbox/gateway-inside.js";
import { runBlueprint } from "../../src/blueprint/run.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { createDockerClient } from "../../blueprint/sandbox/docker-client.js";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { runVolumeName } from "../../blueprint/sandbox/remote-run.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { repoRoot } from "../helpers/node24.js";
import { startOwnDockerd, type OwnDockerd } from "../helpers/own-dockerd.js";

let own: OwnDockerd;
let h: SandboxHarness;
let upstream: Upstream;
let name: string;

/** An absolute-form GET to the forwarder from inside, as the workload: {status, body} or {error}. */
async function getInside(url: string): Promise<{ status?: number; body?: string; error?: string }> {
  const script = `require("http").get({ host: "127.0.0.1", port: 3128, path: ${JSON.stringify(url)}, headers: { host: new URL(${JSON.stringify(url)}).host } }, (r) => { let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => console.log(JSON.stringify({ status: r.statusCode, body: b }))); }).on("error", (e) => console.log(JSON.stringify({ error: e.code ?? e.message })))`;
  const r = await h.exec(name, ["node", "-e", script]);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { status?: number; body?: string; error?: string };
}

beforeAll(async () => {
  const shared = dockerClient();
  const image = await ensureSandboxImage(shared);
  own = await startOwnDockerd();
  await own.copyImages([BASE_IMAGE, image], shared);
  h = await createSandboxHarness({ daemon: false, docker: createDockerClient(own.host), driver: { remote: true, dockerHost: own.host } });
  upstream = await startHttpUpstream();
  await writeFile(
    path.join(h.stateDir, "egress.json"),
    JSON.stringify({ hostMap: { "api.sbx.test": "127.0.0.1", "unlisted.sbx.test": "127.0.0.1" }, approvalTimeoutMs: 1_000 }),
  );
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
  const base = await readFile(path.join(repoRoot, "policies/openclaw-sandbox.yaml"), "utf8");
  const policyFile = path.join(h.stateDir, "test-policy.yaml");
  await writeFile(
    policyFile,
    `${base}
  api:
    endpoints:
      - { host: api.sbx.test, port: ${upstream.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/local/bin/node }]
`,
  );
  name = (await h.create("remote", { policyFile })).name;
}, 900_000);

afterAll(async () => {
  await h?.dispose();
  await upstream?.close();
  await own?.dispose();
});

describe("a sandbox in remote mode", () => {
  it("mounts nothing from the host: /run/nemoclaw is its own volume, holding the CA put there through the API", async () => {
    const info = await own.docker.getContainer(sandboxContainerName(name)).inspect();
    expect(info.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    expect(info.Mounts.find((m) => m.Destination === "/run/nemoclaw")).toMatchObject({ Type: "volume", Name: runVolumeName(name) });
    const ca = await h.exec(name, ["sh", "-c", "head -1 /run/nemoclaw/ca.pem; stat -c '%a %u' /run/nemoclaw/ca-bundle.pem"]);
    expect(ca.stdout).toContain("-----BEGIN CERTIFICATE-----");
    expect(ca.stdout).toContain("644 0");
  });

  it("egress through the policy is allowed and refused as on a local engine", async () => {
    const allowed = await getInside(`http://api.sbx.test:${upstream.port}/remote-hello`);
    expect(allowed.status).toBe(200);
    expect(upstream.seen.at(-1)?.url).toBe("/remote-hello");
    const seen = upstream.seen.length;
    const refused = await getInside(`http://unlisted.sbx.test:${upstream.port}/nope`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/unlisted\.sbx\.test/);
    expect(upstream.seen.length).toBe(seen);
    // the gateway identified the caller through the relay: the audit line names the binary
    const audit = await readFile(path.join(h.stateDir, "sandboxes", name, "egress", "logs", "egress.jsonl"), "utf8");
    expect(audit).toMatch(/remote-hello/);
    expect(audit).toMatch(/\/usr\/local\/bin\/node/);
  });

  it("carries a large body through the relay unchanged (backpressure, frames split at 256 KiB)", async () => {
    const script = `const body = Buffer.alloc(3 * 1024 * 1024, "abcdefgh");
      const req = require("http").request({ host: "127.0.0.1", port: 3128, method: "POST", path: "http://api.sbx.test:${upstream.port}/big", headers: { host: "api.sbx.test:${upstream.port}", "content-length": body.length } }, (r) => { r.resume(); r.on("end", () => console.log(r.statusCode)); });
      req.on("error", (e) => console.log(e.code)); req.end(body);`;
    const started = performance.now();
    const r = await h.exec(name, ["node", "-e", script]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`3 MiB POST through the engine relay, node start included: ${seconds.toFixed(2)} s`);
    expect(r.stdout.trim()).toBe("200");
    const seen = upstream.seen.at(-1);
    expect(seen?.url).toBe("/big");
    expect(seen?.body.length).toBe(3 * 1024 * 1024);
    expect(seen?.body.slice(0, 16)).toBe("abcdefghabcdefgh");
  });

  it("status shows every layer in force and the relay's socket closed to the workload", async () => {
    const status = await h.driver.status(name);
    const inside = status.inside;
    expect(inside?.workload).toMatchObject({ uid: 1000, gid: 1000, seccomp: 2, noNewPrivs: 1, capEff: "0000000000000000", capBnd: "0000000000000000" });
    expect(inside?.landlock.abi).toBeGreaterThanOrEqual(1);
    expect(inside?.landlock.write).toBe("EACCES");
    expect(inside?.proxySocket).toMatchObject({ present: true, mode: "600", uid: 0 });
    expect(status.egress).toMatch(/engine relay/);
    // the operator's status screen (the runtime, on the engine named like `dockerHost`)
    const overview = await runBlueprint({ command: "overview", stateDir: h.stateDir, dockerHost: own.host }, (p) => p.OverviewResultSchema);
    const layers = overview.sandboxes.find((x) => x.name === name)?.layers;
    expect(layers).toMatchObject({ network: { ok: true }, filesystem: { ok: true }, process: { ok: true } });
    expect(typeof layers === "object" && layers?.network.detail).toMatch(/engine relay/);
  });

  it("the workload cannot connect to the relay's socket, write into /run/nemoclaw or signal the relay", async () => {
    const r = await h.exec(name, [
      "node",
      "-e",
      `const out = {};
       const c = require("net").connect("/run/nemoclaw/proxy.sock");
       c.on("connect", () => { out.connect = "connected"; done(); }); c.on("error", (e) => { out.connect = e.code; done(); });
       try { require("fs").writeFileSync("/run/nemoclaw/planted", "x"); out.write = "written"; } catch (e) { out.write = e.code; }
       const relay = require("fs").readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).find((p) => { try { return Number(p) !== process.pid && require("fs").readFileSync("/proc/" + p + "/cmdline", "utf8").split("\\0").includes("/opt/nemoclaw/supervisor/engine-relay.js"); } catch { return false; } });
       out.relay = relay ? "found" : "none";
       if (relay) { try { process.kill(Number(relay), "SIGKILL"); out.kill = "killed"; } catch (e) { out.kill = e.code; } }
       function done() { console.log(JSON.stringify(out)); }`,
    ]);
    expect(r.stdout.trim(), r.stderr).not.toBe("");
    expect(JSON.parse(r.stdout.trim())).toEqual({ write: "EACCES", relay: "found", kill: "EPERM", connect: "EACCES" });
    // the relay's environment does not carry the supervisor's configuration (the caller secret);
    // read as the engine's admin (the test), not as the workload
    const exec = await own.docker.getContainer(sandboxContainerName(name)).exec({ Cmd: ["sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline | grep -q '^/usr/local/bin/node /opt/nemoclaw/supervisor/engine-relay.js' && tr '\\0' '\\n' < $p/environ; done"], User: "0", AttachStdout: true, AttachStderr: true });
    const out = await new Promise<string>((resolve, reject) => {
      exec.start({}, (e, stream) => {
        if (e || !stream) return reject(e ?? new Error("no stream"));
        const chunks: Buffer[] = [];
        const sink = new PassThrough().on("data", (c: Buffer) => chunks.push(c));
        own.docker.modem.demuxStream(stream, sink, new PassThrough());
        stream.on("end", () => resolve(Buffer.concat(chunks).toString()));
      });
    });
    expect(out).toMatch(/^NEMOCLAW_SUPERVISOR=$/m);
    expect(out).not.toMatch(/NEMOCLAW_SUPERVISOR=./);
    // and the path out still works afterwards
    expect((await getInside(`http://api.sbx.test:${upstream.port}/still`)).status).toBe(200);
  });

  it("fails closed while the relay is gone, and heals when the sandbox starts again", async () => {
    await h.daemon?.release(name);
    const closed = await getInside(`http://api.sbx.test:${upstream.port}/while-gone`);
    expect(closed.status).toBe(503);
    expect(upstream.seen.some((r) => r.url === "/while-gone")).toBe(false);
    expect((await h.driver.start(name)).alreadyRunning).toBe(true);
    expect((await getInside(`http://api.sbx.test:${upstream.port}/reattached`)).status).toBe(200);
    // a daemon that restarts attaches again to the running sandbox, from its record alone
    await h.daemon?.close();
    expect((await getInside(`http://api.sbx.test:${upstream.port}/no-daemon`)).status).toBe(503);
    h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
    let again: { status?: number } = {};
    for (let i = 0; i < 40 && again.status !== 200; i++) {
      again = await getInside(`http://api.sbx.test:${upstream.port}/daemon-back`);
      if (again.status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(again.status).toBe(200);
    await h.driver.stop(name);
    await h.driver.start(name);
    expect((await getInside(`http://api.sbx.test:${upstream.port}/after-restart`)).status).toBe(200);
    expect(upstream.seen.at(-1)?.url).toBe("/after-restart");
  });
});

describe("a gateway sandbox in remote mode", () => {
  let gw: string;
  let relay: net.Server;
  let base: string;
  const ready = async (timeoutMs: number): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    let status = 0;
    while (Date.now() < deadline) {
      status = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status, () => 0);
      if (status === 200) return status;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return status;
  };
  beforeAll(async () => {
    gw = (await h.create("rgw", { gateway: true })).name;
    relay = await startHostRelay(h.driver.gatewaySocket(gw), 0);
    base = `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
    // Several seconds on an idle machine, minutes on a loaded one.
    const status = await ready(300_000);
    if (status !== 200) {
      const logs = await h.driver.execCapture(gw, ["sh", "-c", "tail -n 40 /tmp/openclaw/*.log 2>&1"]).catch((e) => ({ stdout: String(e) }));
      throw new Error(`the gateway on the remote engine never became ready (last status ${status}); its log:\n${logs.stdout}`);
    }
  }, 900_000);
  afterAll(() => {
    relay?.close();
  });

  it("answers on the host through the engine relay; nothing is bind-mounted, its relay folder is a root-only tmpfs", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const info = await own.docker.getContainer(sandboxContainerName(gw)).inspect();
    expect(info.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    expect(info.HostConfig.Tmpfs?.["/run/nemoclaw-gateway"]).toMatch(/mode=0700/);
    // the host end's socket: ours, 0600
    const socket = await stat(h.driver.gatewaySocket(gw));
    expect([socket.isSocket(), (socket.mode & 0o777).toString(8), socket.uid]).toEqual([true, "600", process.getuid?.()]);
    const status = await h.driver.status(gw);
    expect(status.egress).toMatch(/engine relay/);
  });

  it("the workload and its tools cannot reach the gateway's relay socket inside (EACCES), nor its port", async () => {
    const probe = `const net=require("net");const out=[];const t=(o,next)=>{const c=net.connect(o);c.on("connect",()=>{out.push("CONNECTED");c.destroy();next()});c.on("error",(e)=>{out.push(e.code);next()})};t("/run/nemoclaw-gateway/gateway.sock",()=>t({host:"127.0.0.1",port:18789},()=>console.log(out.join(" "))))`;
    const asTools = await h.exec(gw, toolShellArgv(`/usr/local/bin/node -e '${probe}'`));
    expect(asTools.stdout.trim(), asTools.stderr).toBe("EACCES EACCES");
    const listing = await h.exec(gw, ["sh", "-c", "ls /run/nemoclaw-gateway 2>&1; echo rc=$?"]);
    expect(listing.stdout).toMatch(/Permission denied[\s\S]*rc=[12]/);
  });

  it("closes the host socket while the relay is gone and opens it again when the sandbox is served", async () => {
    await h.daemon?.release(gw);
    expect(await fetch(`${base}/healthz`).then((r) => r.status, (e: Error) => e.name)).toBe("TypeError");
    await expect(stat(h.driver.gatewaySocket(gw))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await h.driver.start(gw)).alreadyRunning).toBe(true);
    expect(await ready(60_000)).toBe(200);
    // a daemon that restarts carries it again, from the record alone
    await h.daemon?.close();
    h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
    expect(await ready(60_000)).toBe(200);
  });
});
