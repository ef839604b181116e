// The floor of the egress rows: the least a forward proxy written for Node does, measured in the
// same run as the gateway and the direct baseline. A process of its own on a Unix socket, like
// the gateway; it skips the caller preamble line unread, then hands the stream to Node's HTTP
// server: absolute-form requests go out through a keep-alive agent and the response is piped
// back, CONNECT is a pure pipe both ways, or, for the names it terminates, TLS with a fixed
// certificate and each request inside forwarded over TLS through a keep-alive agent. No policy,
// no audit, no checks, no certificate minted: whatever the gateway costs above this is ours, and
// a goal below this cannot be met by any proxy written for Node.

import { execFile, spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { freePort } from "../helpers/free-port.js";
import { tempDir } from "../helpers/gateway-harness.js";

/**
 * argv: socket path, a JSON host map (name → address), then JSON {hosts, key, cert, upstreamCa}:
 * the names whose TLS it terminates, its certificate for them, and the CA of the upstreams.
 * Prints {} once listening; exits when stdin closes.
 */
const FLOOR_PROXY = `
const http = require("node:http");
const https = require("node:https");
const net = require("node:net");
const tls = require("node:tls");
const [socketPath, hostMapJson, terminateJson] = process.argv.slice(-3);
const hostMap = JSON.parse(hostMapJson);
const terminate = JSON.parse(terminateJson);
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
const tlsAgent = new https.Agent({ keepAlive: true, maxFreeSockets: 256, ca: terminate.upstreamCa });
const inner = http.createServer((req, res) => {
  const { host, port } = req.socket.target;
  const upstream = https.request({ host: hostMap[host] ?? host, port, servername: host, path: req.url, method: req.method, headers: req.headers, agent: tlsAgent }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
});
const server = http.createServer((req, res) => {
  const url = new URL(req.url);
  const upstream = http.request({ host: hostMap[url.hostname] ?? url.hostname, port: Number(url.port || 80), path: url.pathname + url.search, method: req.method, headers: req.headers, agent }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
});
server.on("connect", (req, socket, head) => {
  const [host, port] = req.url.split(":");
  if (terminate.hosts.includes(host)) {
    socket.write("HTTP/1.1 200 Connection Established\\r\\n\\r\\n");
    if (head.length > 0) socket.unshift(head);
    const secure = new tls.TLSSocket(socket, { isServer: true, key: terminate.key, cert: terminate.cert });
    secure.target = { host, port: Number(port) };
    inner.emit("connection", secure);
    return;
  }
  const upstream = net.connect({ host: hostMap[host] ?? host, port: Number(port), noDelay: true }, () => {
    socket.write("HTTP/1.1 200 Connection Established\\r\\n\\r\\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on("error", () => socket.destroy());
  socket.on("error", () => upstream.destroy());
  socket.on("close", () => upstream.destroy());
});
net.createServer((socket) => {
  socket.setNoDelay?.(true);
  let buffered = Buffer.alloc(0);
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf(10);
    if (end === -1) return;
    socket.off("data", onData);
    socket.pause();
    if (end + 1 < buffered.length) socket.unshift(buffered.subarray(end + 1));
    server.emit("connection", socket);
    socket.resume();
  };
  socket.on("data", onData);
}).listen(socketPath, () => console.log("{}"));
process.stdin.on("end", () => process.exit(0)).resume();
`;

export interface FloorProxy {
  socketPath: string;
  pid: number;
  close(): Promise<void>;
}

/** The names whose TLS the floor terminates, with the certificate it presents for them (any one key pair). */
export interface FloorTermination {
  hosts: string[];
  key: string;
  cert: string;
  /** The CA that signed the upstreams' certificates. */
  upstreamCa: string;
}

/** A self-signed certificate for `name` (openssl): the floor proxy presents it where it terminates TLS. */
export async function selfSignedCertificate(name: string): Promise<{ key: string; cert: string }> {
  const dir = await tempDir("nemoclaw-bench-cert-");
  const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
  await promisify(execFile)("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`, "-keyout", key, "-out", cert]);
  const pems = { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
  await rm(dir, { recursive: true, force: true });
  return pems;
}

export async function startFloorProxy(socketPath: string, hostMap: Record<string, string>, terminate: FloorTermination, nodeFlags: readonly string[]): Promise<FloorProxy> {
  const child = spawn(process.execPath, [...nodeFlags, "-e", FLOOR_PROXY, socketPath, JSON.stringify(hostMap), JSON.stringify(terminate)], { stdio: ["pipe", "pipe", "inherit"] });
  const listening = await new Promise<boolean>((resolve) => {
    createInterface({ input: child.stdout }).once("line", () => resolve(true));
    child.once("exit", () => resolve(false));
  });
  if (!listening) throw new Error("the floor proxy exited before it listened");
  return {
    socketPath,
    pid: child.pid ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin.end();
      }),
  };
}

/**
 * The floor below any proxy: a raw byte relay in C (socat, a read/write loop), 127.0.0.1:port →
 * the upstream. It makes no decision at all, so what it costs is what any process relaying the
 * bytes of an established tunnel costs on this machine, in whatever language. Undefined when
 * socat is not installed (`apt-get install socat`).
 */
export async function startCRelay(upstreamPort: number): Promise<{ port: number; close(): Promise<void> } | undefined> {
  const port = await freePort();
  const child = spawn("socat", ["-b", "131072", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${upstreamPort},nodelay`], { stdio: "ignore" });
  const started = await new Promise<boolean>((resolve) => {
    child.once("error", () => resolve(false));
    const deadline = Date.now() + 5_000;
    const attempt = (): void => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => (Date.now() > deadline || child.exitCode !== null ? resolve(false) : void setTimeout(attempt, 20)));
    };
    attempt();
  });
  const close = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  if (!started) {
    await close();
    return undefined;
  }
  return { port, close };
}
