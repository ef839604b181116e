import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecreateNeededError } from "../../blueprint/gateway/sandbox-state.js";
import type { Policy } from "../../blueprint/policy/schema.js";
import {
  connectTunnel, createTestCa, CURL, policy, proxyAgent, proxyRequest, startGateway, startHttpsUpstream, startHttpUpstream,
  tempDir, tlsOverTunnel, requestOn,
} from "../helpers/gateway-harness.js";
import type { GatewayHarness, TestCa, Upstream } from "../helpers/gateway-harness.js";

let plain: Upstream;
let secure: Upstream;
let ca: TestCa;
let gw: GatewayHarness;

function policyWith(keys: { a?: boolean; b?: boolean; bRest?: boolean }): Policy {
  const parts: string[] = [];
  if (keys.a !== false) {
    parts.push(`  a:
    endpoints:
      - { host: a.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
      - { host: a.example.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]`);
  }
  if (keys.b === true) {
    parts.push(`  b:
    endpoints:
      - { host: b.example.test, port: ${plain.port}, allowed_ips: [127.0.0.1/32] }
      - { host: b.example.test, port: ${secure.port}, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]`);
  }
  if (keys.bRest === true) {
    parts.push(`  b:
    endpoints:
      - { host: b.example.test, port: ${secure.port}, protocol: rest, enforcement: enforce, access: read-only, allowed_ips: [127.0.0.1/32] }
    binaries: [{ path: /usr/bin/curl }]`);
  }
  return policy(`version: 1\nfilesystem_policy: { read_only: [/usr], read_write: [/sandbox] }\nnetwork_policies:\n${parts.length === 0 ? "  {}" : parts.join("\n")}\n`);
}

beforeAll(async () => {
  ca = await createTestCa(await tempDir());
  plain = await startHttpUpstream();
  secure = await startHttpsUpstream(ca);
  gw = await startGateway(policyWith({ b: true }), {
    hostMap: { "a.example.test": "127.0.0.1", "b.example.test": "127.0.0.1" },
    upstreamCa: ca.certPem,
    approvalTimeoutMs: 100,
  });
});
afterAll(async () => {
  await gw.close();
  await plain.close();
  await secure.close();
});

function closed(socket: import("node:net").Socket): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed) resolve(0);
    socket.once("close", () => resolve(performance.now() - started));
  });
}

describe("hot reload", () => {
  it("closes an open tunnel the new policy revokes and keeps the ones it still allows", async () => {
    gw.gateway.setPolicy(gw.sandbox, policyWith({ b: true }));
    const tb = await connectTunnel(gw.socketPath, CURL, `b.example.test:${secure.port}`);
    const ta = await connectTunnel(gw.socketPath, CURL, `a.example.test:${secure.port}`);
    expect([ta.status, tb.status]).toEqual([200, 200]);
    const sb = await tlsOverTunnel(tb.socket, "b.example.test", ca.certPem);
    const sa = await tlsOverTunnel(ta.socket, "a.example.test", ca.certPem);
    expect((await requestOn(sb, `b.example.test:${secure.port}`)).status).toBe(200);
    const bClosed = closed(sb);
    const result = gw.gateway.setPolicy(gw.sandbox, policyWith({}));
    expect(result.closed).toBe(1);
    expect(result.changes).toMatchObject({ dynamic: ["network_policies"], recreateNeeded: false });
    expect(await bClosed).toBeLessThan(100);
    // a's tunnel is untouched and still works
    expect((await requestOn(sa, `a.example.test:${secure.port}`, { path: "/still" })).json()).toMatchObject({ url: "/still" });
    sa.destroy();
    // and new connections see the new policy at once
    expect((await connectTunnel(gw.socketPath, CURL, `b.example.test:${secure.port}`)).status).toBe(403);
  });

  it("closes a keep-alive HTTP connection that carried a revoked destination", async () => {
    gw.gateway.setPolicy(gw.sandbox, policyWith({ b: true }));
    const agent = proxyAgent(gw.socketPath, CURL);
    expect((await proxyRequest(gw.socketPath, CURL, `http://b.example.test:${plain.port}/1`, { agent })).status).toBe(200);
    expect(gw.gateway.stats(gw.sandbox).connections).toBeGreaterThanOrEqual(1);
    const before = gw.gateway.stats(gw.sandbox).connections;
    const result = gw.gateway.setPolicy(gw.sandbox, policyWith({}));
    expect(result.closed).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(gw.gateway.stats(gw.sandbox).connections).toBe(before - 1);
    expect((await proxyRequest(gw.socketPath, CURL, `http://b.example.test:${plain.port}/2`, { agent })).status).toBe(403);
    agent.destroy();
  });

  it("closes a pure tunnel when the endpoint now needs request inspection", async () => {
    gw.gateway.setPolicy(gw.sandbox, policyWith({ b: true }));
    const tb = await connectTunnel(gw.socketPath, CURL, `b.example.test:${secure.port}`);
    expect(tb.status).toBe(200);
    const done = closed(tb.socket);
    expect(gw.gateway.setPolicy(gw.sandbox, policyWith({ bRest: true })).closed).toBe(1);
    await done;
  });

  it("refuses a change to a static section with 'recreate needed' and applies nothing", async () => {
    gw.gateway.setPolicy(gw.sandbox, policyWith({}));
    const changed = { ...policyWith({ b: true }), filesystem_policy: { read_only: ["/usr", "/opt"], read_write: ["/sandbox"] } };
    expect(() => gw.gateway.setPolicy(gw.sandbox, changed)).toThrow(RecreateNeededError);
    expect(() => gw.gateway.setPolicy(gw.sandbox, changed)).toThrow(/recreate needed/);
    expect(gw.gateway.getPolicy(gw.sandbox).network_policies?.b).toBeUndefined();
  });

  it("under load: reloads drop nothing that stays allowed, and each reload is enforced at once", async () => {
    gw.gateway.setPolicy(gw.sandbox, policyWith({ b: true }));
    const agents = Array.from({ length: 16 }, () => proxyAgent(gw.socketPath, CURL));
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const workers = agents.map(async (agent, i) => {
      while (!stop) {
        try {
          const r = await proxyRequest(gw.socketPath, CURL, `http://a.example.test:${plain.port}/load/${i}`, { agent });
          if (r.status === 200) ok++;
          else failures.push(`${r.status} ${r.body}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    });
    // Enforcement time: allowing → first 200 on a new connection; revoking → an open tunnel to b closed.
    const enforcement: number[] = [];
    let open: import("node:net").Socket | undefined;
    for (let i = 0; i < 40; i++) {
      const allowB = i % 2 === 1;
      const wasClosed = open === undefined ? undefined : closed(open);
      const started = performance.now();
      gw.gateway.setPolicy(gw.sandbox, policyWith({ b: allowB }));
      if (allowB) {
        const t = await connectTunnel(gw.socketPath, CURL, `b.example.test:${secure.port}`);
        enforcement.push(performance.now() - started);
        expect(t.status).toBe(200);
        open = t.socket;
      } else {
        if (wasClosed !== undefined) enforcement.push((await wasClosed));
        open = undefined;
        expect((await proxyRequest(gw.socketPath, CURL, `http://b.example.test:${plain.port}/probe`)).status).toBe(403);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    stop = true;
    await Promise.all(workers);
    for (const agent of agents) agent.destroy();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    enforcement.sort((x, y) => x - y);
    expect(enforcement.length).toBe(39);
    expect(enforcement.at(-1)).toBeLessThan(100);
  });
});
