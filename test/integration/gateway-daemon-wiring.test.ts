// The gateway as the daemon wires it: createEgressHandler(context) with a state directory laid
// out like the daemon's, sandboxes registered on first connection, control routes mounted.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import type http from "node:http";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import type { EgressHandlerWithGateway, GatewayContext } from "../../blueprint/gateway/egress-service.js";
import { CURL, proxyRequest, startHttpUpstream, tempDir, testCallerSecretFile } from "../helpers/gateway-harness.js";
import type { Upstream } from "../helpers/gateway-harness.js";

type Handler = (body: unknown, request: http.IncomingMessage) => unknown;

/** Stands in for the daemon's ControlRouter: validates with the route's schema, then calls it. */
class RecordingRouter {
  readonly routes = new Map<string, { handler: Handler; schema: z.ZodType | undefined }>();
  addRoute<S extends z.ZodType>(method: string, urlPath: string, handler: (body: z.infer<S>, request: http.IncomingMessage) => unknown, schema?: S): void {
    this.routes.set(`${method} ${urlPath}`, { handler: handler as Handler, schema });
  }
  async call(urlPath: string, body: unknown): Promise<Record<string, unknown>> {
    const route = this.routes.get(`POST ${urlPath}`);
    if (route === undefined) throw new Error(`no route ${urlPath}`);
    const parsed = route.schema === undefined ? body : route.schema.parse(body);
    return (await route.handler(parsed, {} as http.IncomingMessage)) as Record<string, unknown>;
  }
}

let stateDir: string;
let upstream: Upstream;
let router: RecordingRouter;
let egress: EgressHandlerWithGateway;
let server: net.Server;
let socketPath: string;
const logs: string[] = [];

beforeAll(async () => {
  stateDir = await tempDir("nemoclaw-daemon-");
  upstream = await startHttpUpstream();
  await mkdir(path.join(stateDir, "sandboxes", "demo"), { recursive: true });
  // Where the driver keeps the sandbox's caller secret (state/paths.ts sandboxCallerSecretFile).
  await testCallerSecretFile(path.join(stateDir, "sandboxes", "demo"));
  await writeFile(
    path.join(stateDir, "sandboxes", "demo", "policy.yaml"),
    `version: 1\nnetwork_policies:\n  api:\n    endpoints: [{ host: api.example.test, port: ${upstream.port}, allowed_ips: [127.0.0.1/32] }]\n    binaries: [{ path: /usr/bin/curl }]\n`,
  );
  await writeFile(path.join(stateDir, "egress.json"), JSON.stringify({ hostMap: { "api.example.test": "127.0.0.1", "new.example.test": "127.0.0.1" }, approvalTimeoutMs: 5000 }));
  router = new RecordingRouter();
  const context: GatewayContext = {
    stateDir,
    router,
    policyFile: (name) => path.join(stateDir, "sandboxes", name, "policy.yaml"),
    log: (m) => logs.push(m),
  };
  egress = await createEgressHandler(context);
  socketPath = path.join(stateDir, "proxy.sock");
  server = net.createServer((socket) => egress.handle("demo", socket));
  await new Promise<void>((r) => server.listen(socketPath, r));
});

afterAll(async () => {
  await egress.close();
  await new Promise<void>((r) => server.close(() => r()));
  await upstream.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe("daemon wiring", () => {
  it("registers a sandbox on its first connection from its policy.yaml and serves it", async () => {
    expect(egress.gateway.hasSandbox("demo")).toBe(false);
    const r = await proxyRequest(socketPath, CURL, `http://api.example.test:${upstream.port}/first`);
    expect(r.status).toBe(200);
    expect(egress.gateway.hasSandbox("demo")).toBe(true);
    expect(logs.some((l) => /demo registered/.test(l))).toBe(true);
  });

  it("fails closed for a sandbox without a valid policy", async () => {
    const other = net.createServer((socket) => egress.handle("ghost", socket));
    const otherPath = path.join(stateDir, "ghost.sock");
    await new Promise<void>((r) => other.listen(otherPath, r));
    // No policy, no egress: the connection is closed without a byte of answer or upstream contact.
    const before = upstream.seen.length;
    await expect(proxyRequest(otherPath, CURL, `http://api.example.test:${upstream.port}/ghost`)).rejects.toMatchObject({ code: "ECONNRESET", message: expect.stringMatching(/^(socket hang up|read ECONNRESET)$/) });
    expect(logs.some((l) => /^egress: cannot register ghost: /.test(l))).toBe(true);
    expect(upstream.seen.length).toBe(before);
    other.close();
  });

  it("mounts the control routes: policy get, approvals wait/list/decide with allow-always persisted", async () => {
    expect([...router.routes.keys()].sort()).toEqual([
      "POST /egress/approvals/decide", "POST /egress/approvals/list", "POST /egress/approvals/wait", "POST /egress/logs",
      "POST /egress/policy/add-preset", "POST /egress/policy/diff", "POST /egress/policy/get", "POST /egress/policy/set",
    ]);
    expect(await router.call("/egress/policy/get", { sandbox: "demo" })).toMatchObject({
      ok: true,
      yaml: expect.stringMatching(/api\.example\.test/),
      binaryScoping: expect.stringMatching(/^the executable holding the connection \(sha256-pinned on first use\); ancestors are shown, not matched/),
    });
    const waiting = router.call("/egress/approvals/wait", { sandbox: "demo", waitMs: 5000 });
    const held = proxyRequest(socketPath, CURL, `http://new.example.test:${upstream.port}/held`);
    const { events } = (await waiting) as { events: Array<{ type: string; approval: { id: string; host: string } }> };
    expect(events[0]).toMatchObject({ type: "pending", approval: { host: "new.example.test" } });
    const list = (await router.call("/egress/approvals/list", {})) as { approvals: Array<{ id: string }> };
    expect(list.approvals.map((a) => a.id)).toEqual([events[0]!.approval.id]);
    const decided = await router.call("/egress/approvals/decide", { id: events[0]!.approval.id, decision: "approve", always: true, allowedIps: ["127.0.0.1/32"] });
    expect(decided).toMatchObject({ ok: true, approval: { status: "allow-always" } });
    expect((await held).status).toBe(200);
    const onDisk = await readFile(path.join(stateDir, "sandboxes", "demo", "policy.yaml"), "utf8");
    expect(onDisk).toMatch(/approved_new\.example\.test_\d+/);
  });

  it("refuses an egress.json that is present but invalid", async () => {
    const bad = await tempDir("nemoclaw-daemon-bad-");
    await writeFile(path.join(bad, "egress.json"), JSON.stringify({ hostmap: {} }));
    await expect(createEgressHandler({ stateDir: bad, router: new RecordingRouter(), policyFile: () => "", log: () => {} })).rejects.toThrow(/egress\.json is not valid/);
    await rm(bad, { recursive: true, force: true });
  });
});
