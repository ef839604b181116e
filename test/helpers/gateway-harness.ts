// Real sockets for the egress gateway's tests: upstream servers on 127.0.0.1 (plain and TLS,
// the latter signed by a test CA the gateway is told to trust), a gateway behind a Unix socket
// like the daemon's proxy.sock, and clients that write the caller preamble and then speak
// HTTP proxy (absolute-form, CONNECT, HTTPS through a terminated tunnel).

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { formatPreamble } from "../../blueprint/supervisor/caller-preamble.js";
import type { Caller } from "../../blueprint/gateway/caller.js";
import { createEgressGateway } from "../../blueprint/gateway/egress-gateway.js";
import type { EgressGateway, EgressGatewayOptions } from "../../blueprint/gateway/egress-gateway.js";
import type { SandboxOptions } from "../../blueprint/gateway/sandbox-state.js";
import { loadOrCreateSandboxCa } from "../../blueprint/ca/sandbox-ca.js";
import { LeafCache } from "../../blueprint/gateway/leaf-cache.js";
import { parsePolicy } from "../../blueprint/policy/load.js";
import type { Policy } from "../../blueprint/policy/schema.js";

const fakeSha = (c: string): string => c.repeat(64);
export const CURL: Caller = { pid: 64, exe: "/usr/bin/curl", sha256: fakeSha("c"), ancestors: ["/usr/bin/bash"], unidentified: null };
export const NODE: Caller = { pid: 100, exe: "/usr/local/bin/node", sha256: fakeSha("d"), ancestors: [], unidentified: null };
export const PYTHON: Caller = { pid: 77, exe: "/usr/bin/python3.12", sha256: fakeSha("e"), ancestors: ["/usr/bin/bash"], unidentified: null };

/** The caller secret every harness gateway expects (the sandbox's forwarder would hold its own). */
export const TEST_CALLER_SECRET = "5e".repeat(32);

/** Writes TEST_CALLER_SECRET to `<dir>/caller.secret` and returns the file, for SandboxOptions.callerSecretFile. */
export async function testCallerSecretFile(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, "caller.secret");
  await writeFile(file, `${TEST_CALLER_SECRET}\n`, { mode: 0o600 });
  return file;
}

export async function tempDir(prefix = "nemoclaw-gw-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A policy from YAML, validated by the real loader. */
export function policy(yaml: string): Policy {
  return parsePolicy(yaml).policy;
}

export interface Upstream {
  port: number;
  /** Requests seen, in order: method, url, headers, body. */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** echo: false answers `{"ok":true}` instead of the request, as an API that never repeats a token it was sent. */
function upstreamHandler(seen: Upstream["seen"], echo = true): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const slow = /^\/slow\/(\d+)$/.exec(req.url ?? "");
      if (slow !== null) {
        // Headers now, body later: a long poll or a slow stream.
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("waiting\n");
        setTimeout(() => res.end("done\n"), Number(slow[1]));
        return;
      }
      const bulk = /^\/bulk\/(\d+)$/.exec(req.url ?? "");
      if (bulk !== null) {
        const size = Number(bulk[1]);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
        const block = Buffer.alloc(64 * 1024, 0x61);
        let left = size;
        const pump = (): void => {
          while (left > 0) {
            const n = Math.min(left, block.length);
            left -= n;
            if (!res.write(n === block.length ? block : block.subarray(0, n))) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      const json = echo ? JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, body }) : JSON.stringify({ ok: true });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
      res.end(json);
    });
  };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

function closer(server: net.Server & { closeAllConnections?: () => void }): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
}

/** Plain HTTP upstream on 127.0.0.1 that echoes requests as JSON and serves /bulk/<bytes>. */
export async function startHttpUpstream(): Promise<Upstream> {
  const seen: Upstream["seen"] = [];
  const server = http.createServer({ keepAliveTimeout: 30_000 }, upstreamHandler(seen));
  server.on("connection", (s: net.Socket) => s.setNoDelay(true));
  return { port: await listen(server), seen, close: closer(server) };
}

export interface TestCa {
  certPem: string;
  leaves: LeafCache;
}

/** A CA standing in for the public roots: it signs the TLS upstreams' certificates. */
export async function createTestCa(dir: string): Promise<TestCa> {
  const ca = await loadOrCreateSandboxCa(path.join(dir, "upstream-ca"), "test upstreams");
  return { certPem: ca.certPem, leaves: new LeafCache(ca) };
}

/** HTTPS upstream on 127.0.0.1 presenting a certificate (from `ca`) for whatever SNI it is asked for. */
export async function startHttpsUpstream(ca: TestCa, onlyName?: string, options: { echo?: boolean } = {}): Promise<Upstream> {
  const seen: Upstream["seen"] = [];
  const server = https.createServer(
    {
      keepAliveTimeout: 30_000,
      SNICallback: (name, cb) => {
        ca.leaves.context(onlyName ?? name).then((ctx) => cb(null, ctx), (e: Error) => cb(e, undefined));
      },
    },
    upstreamHandler(seen, options.echo),
  );
  server.on("secureConnection", (s: tls.TLSSocket) => {
    s.setNoDelay(true);
  });
  return { port: await listen(server), seen, close: closer(server) };
}

export interface GatewayHarness {
  gateway: EgressGateway;
  socketPath: string;
  dir: string;
  sandbox: string;
  caCertPem: string;
  close(): Promise<void>;
}

/** A gateway with one sandbox, served on a Unix socket the way the daemon serves proxy.sock. */
export async function startGateway(
  sandboxPolicy: Policy,
  options: EgressGatewayOptions = {},
  sandboxOptions: Partial<SandboxOptions> = {},
): Promise<GatewayHarness> {
  const dir = await tempDir();
  const sandbox = "test";
  const gateway = createEgressGateway({ hostMap: {}, ...options });
  const { caCertPem } = await gateway.addSandbox(sandbox, {
    policy: sandboxPolicy,
    stateDir: path.join(dir, "state"),
    callerSecretFile: await testCallerSecretFile(dir),
    ...sandboxOptions,
  });
  const socketPath = path.join(dir, "proxy.sock");
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    gateway.handle(sandbox, socket);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    gateway,
    socketPath,
    dir,
    sandbox,
    caCertPem,
    async close() {
      // Connections first: a tunnel that closes still writes its audit line, which must land
      // before the gateway flushes its logs (else it reopens the file while the dir is removed).
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

/** A connection to the proxy socket that has already sent the caller preamble. */
export function dialProxy(socketPath: string, caller: Caller): net.Socket {
  const socket = net.connect(socketPath);
  socket.write(formatPreamble(TEST_CALLER_SECRET, caller));
  return socket;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

function reply(res: http.IncomingMessage, body: string): Reply {
  return { status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T };
}

/** One HTTP request through the proxy (absolute-form), on a fresh connection unless `agent` is given. */
export function proxyRequest(
  socketPath: string,
  caller: Caller,
  url: string,
  init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent } = {},
): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      method: init.method ?? "GET",
      path: url,
      headers: { host: u.host, ...(init.headers ?? {}) },
      ...(init.agent === undefined ? { createConnection: () => dialProxy(socketPath, caller) } : { agent: init.agent }),
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(reply(res, Buffer.concat(chunks).toString("utf8"))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** A keep-alive agent whose connections go to the proxy socket with a preamble. */
export function proxyAgent(socketPath: string, caller: Caller, maxSockets = 1): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  (agent as unknown as { createConnection: () => net.Socket }).createConnection = () => dialProxy(socketPath, caller);
  return agent;
}

export interface Tunnel {
  status: number;
  /** Response head and body text (for refusals). */
  text: string;
  socket: net.Socket;
}

/** Sends CONNECT and waits for the proxy's answer; on 200 the socket is the open tunnel. */
export function connectTunnel(socketPath: string, caller: Caller, authority: string, extraHead = ""): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const socket = dialProxy(socketPath, caller);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extraHead}\r\n`);
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = buffered.subarray(0, end).toString("latin1");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (status === 200) {
        socket.off("data", onData);
        socket.off("end", onEnd);
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        resolve({ status, text: head, socket });
        return;
      }
      // Refusal: read to the end for the JSON body.
      socket.off("data", onData);
      socket.off("end", onEnd);
      const chunks = [buffered];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.once("close", () => resolve({ status, text: Buffer.concat(chunks).toString("utf8"), socket }));
    };
    const onEnd = (): void => resolve({ status: 0, text: buffered.toString("utf8"), socket });
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", reject);
  });
}

/** The JSON body of a raw refusal (`HTTP/1.1 403 …\r\n\r\n{…}`). */
export function refusalBody(text: string): Record<string, unknown> {
  return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
}

/** TLS over an open tunnel, trusting `caPem` (the sandbox CA, or the test upstream CA for pure tunnels). */
export function tlsOverTunnel(socket: net.Socket, servername: string | undefined, caPem: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, ...(servername === undefined ? {} : { servername }), ca: caPem, ALPNProtocols: ["http/1.1"] });
    secure.once("secureConnect", () => resolve(secure));
    secure.once("error", reject);
  });
}

/** One HTTP/1.1 request on an already-open (TLS) stream; origin-form unless `path` says otherwise. */
export function requestOn(
  stream: net.Socket,
  host: string,
  init: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      method: init.method ?? "GET",
      path: init.path ?? "/",
      // keep-alive: the stream outlives the request, so several can share it.
      // Node's client sends a DELETE body without framing unless told its length.
      headers: { host, connection: "keep-alive", ...(init.body === undefined ? {} : { "content-length": Buffer.byteLength(init.body) }), ...(init.headers ?? {}) },
      createConnection: () => stream,
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(reply(res, Buffer.concat(chunks).toString("utf8"))));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Writes raw bytes after a preamble and collects everything until the proxy closes (or `ms`). */
export function rawExchange(socketPath: string, caller: Caller | null, bytes: string | Buffer, ms = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = caller === null ? net.connect(socketPath) : dialProxy(socketPath, caller);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {});
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    };
    const timer = setTimeout(done, ms);
    socket.once("close", done);
    socket.write(bytes);
  });
}
