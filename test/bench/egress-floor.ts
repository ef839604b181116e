// The floor of the egress rows: the least a forward proxy written for Node does, measured in the
// same run as the gateway and the direct baseline. A process of its own on a Unix socket, like
// the gateway; it skips the caller preamble line unread, then hands the stream to Node's HTTP
// server: absolute-form requests go out through a keep-alive agent and the response is piped
// back, CONNECT is a pure pipe both ways. No policy, no audit, no checks: whatever the gateway
// costs above this is ours, and a goal below this cannot be met by any proxy written for Node.

import { spawn } from "node:child_process";
import net from "node:net";
import { createInterface } from "node:readline";
import { freePort } from "../helpers/free-port.js";

/** argv: socket path, then a JSON host map (name → address). Prints {} once listening; exits when stdin closes. */
const FLOOR_PROXY = `
const http = require("node:http");
const net = require("node:net");
const [socketPath, hostMapJson] = process.argv.slice(-2);
const hostMap = JSON.parse(hostMapJson);
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
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

export async function startFloorProxy(socketPath: string, hostMap: Record<string, string>, nodeFlags: readonly string[]): Promise<FloorProxy> {
  const child = spawn(process.execPath, [...nodeFlags, "-e", FLOOR_PROXY, socketPath, JSON.stringify(hostMap)], { stdio: ["pipe", "pipe", "inherit"] });
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
