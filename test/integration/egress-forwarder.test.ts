// The sandbox's egress forwarder as the supervisor runs it, on the host: the built
// dist/blueprint/supervisor/supervisor.js (a real process, naming each caller) starting the C
// forwarder (blueprint/supervisor/egress-forwarder.c, relaying the bytes), real TCP clients on
// 127.0.0.1, and a real Unix socket where the host runtime's proxy.sock would be. What listens
// there is a byte-level stand-in: the gateway has its own tests, and the whole path runs inside
// real sandboxes in test/redteam.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, chown, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hostForwarder } from "../helpers/egress-forwarder.js";
import { freePort } from "../helpers/free-port.js";
import { repoRoot } from "../helpers/node24.js";

const SUPERVISOR = path.join(repoRoot, "dist/blueprint/supervisor/supervisor.js");
const SECRET = "cd".repeat(32);
// The workload: closes the ready fd as landlock-exec does, then idles as uid 1000 until SIGTERM.
const LAUNCHER = `#!/bin/sh
exec 3>&-
exec setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
`;

let dir: string;
/** The supervisor every test but the descriptor-limit one goes through. */
let main: { child: ChildProcess; output: () => string };
let port: number;
const socketPath = () => path.join(dir, "proxy.sock");

/** What stands where proxy.sock would be: each connection's preamble line, then `onBytes`. */
interface Gateway {
  server: net.Server;
  preambles: string[];
}
let gateway: Gateway | undefined;

function startGateway(onConnection: (socket: net.Socket, preamble: string, rest: Buffer) => void): Promise<Gateway> {
  const preambles: string[] = [];
  const server = net.createServer((socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) return;
      socket.off("data", onData);
      socket.pause();
      const preamble = head.subarray(0, nl).toString("utf8");
      preambles.push(preamble);
      onConnection(socket, preamble, head.subarray(nl + 1));
      socket.resume();
    };
    socket.on("data", onData);
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => server.listen(socketPath(), () => resolve({ server, preambles })));
}

/** After the preamble, every byte back as it came. */
const echo = (socket: net.Socket, _preamble: string, rest: Buffer): void => {
  if (rest.length > 0) socket.write(rest);
  socket.pipe(socket);
};

/** Polls `check` every `everyMs` until it holds, for at most `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

/** Writes `data`, half-closes, and collects everything until the forwarder ends the connection. */
function exchange(data: Buffer | string, options: { readAfterMs?: number; port?: number; keepOpen?: boolean } = {}): Promise<{ got: Buffer; error: string | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const s = net.connect(options.port ?? port, "127.0.0.1", () => {
      // keepOpen: the client's side stays open until the answer ends the connection.
      if (options.keepOpen) s.write(data);
      else s.end(data);
      if (options.readAfterMs !== undefined) {
        // Reads nothing for a while: the forwarder's writes to it block and must resume.
        s.pause();
        setTimeout(() => s.resume(), options.readAfterMs);
      }
    });
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on("close", () => resolve({ got: Buffer.concat(chunks), error }));
  });
}

function forwarderPid(): Promise<number | undefined> {
  return readdir("/proc").then(async (entries) => {
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue;
      const argv = await readFile(`/proc/${e}/cmdline`, "utf8").catch(() => "");
      const status = await readFile(`/proc/${e}/status`, "utf8").catch(() => "");
      if (argv.startsWith(`${await hostForwarder()}\0`) && new RegExp(`^PPid:\\s+${main.child.pid}$`, "m").test(status)) return Number(e);
    }
    return undefined;
  });
}

/** The built supervisor forwarding `onPort` to the test's socket; `wrapper` runs it (e.g. under prlimit). */
async function startSupervisor(onPort: number, wrapper: string[] = []): Promise<{ child: ChildProcess; output: () => string }> {
  const config = {
    launcher: [path.join(dir, "launcher.sh")],
    env: { PATH: "/usr/bin:/bin" },
    forwarder: { host: "127.0.0.1", port: onPort, socket: socketPath(), program: await hostForwarder() },
    caller: { uid: 1000, gid: 1000 },
    secret: SECRET,
  };
  const argv = [...wrapper, process.execPath, SUPERVISOR];
  const child = spawn(argv[0]!, argv.slice(1), { env: { NEMOCLAW_SUPERVISOR: JSON.stringify(config) }, cwd: dir });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  await waitFor(() => out.includes("workload started"), "the supervisor's workload", 60_000);
  return { child, output: () => out };
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) return;
  dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-forwarder-"));
  await chmod(dir, 0o755);
  await writeFile(path.join(dir, "launcher.sh"), LAUNCHER, { mode: 0o755 });
  port = await freePort();
  main = await startSupervisor(port);
}, 120_000);

afterEach(async () => {
  if (gateway) await new Promise((r) => gateway!.server.close(r));
  gateway = undefined;
  await rm(socketPath(), { force: true });
});

afterAll(async () => {
  const supervisor = main?.child;
  if (supervisor && supervisor.exitCode === null) {
    const exited = new Promise((r) => supervisor.once("exit", r));
    supervisor.kill("SIGTERM");
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)("the egress forwarder (C relay, named callers from the supervisor)", () => {
  it("sends the supervisor's preamble first, then the client's bytes; a kept-alive connection carries many exchanges both ways", async () => {
    gateway = await startGateway(echo);
    const s = await connect();
    let got = "";
    let arrived: (() => void) | undefined;
    s.on("data", (c: Buffer) => {
      got += c.toString();
      arrived?.();
    });
    for (let i = 0; i < 200; i++) {
      const line = `exchange ${i}\n`;
      const echoed = new Promise<void>((r) => (arrived = () => got.endsWith(line) && r()));
      s.write(line);
      await echoed;
    }
    expect(got.split("\n")).toHaveLength(201);
    s.destroy();
    expect(gateway.preambles).toHaveLength(1);
    const [preamble] = gateway.preambles as [string];
    expect(preamble.startsWith(`NEMOCLAW-CALLER ${SECRET} {`)).toBe(true);
    // The test runs as root, whose processes are the sandbox's own: not a caller to name.
    expect(JSON.parse(preamble.slice(`NEMOCLAW-CALLER ${SECRET} `.length))).toMatchObject({ exe: null, unidentified: expect.any(String) });
  });

  it("names a caller running as the workload's uid by its executable and the file's sha256", async () => {
    gateway = await startGateway(echo);
    const client = `const s=require("net").connect(${port},"127.0.0.1",()=>s.write("hi"));s.on("data",(d)=>{process.stdout.write(d);s.destroy()});`;
    const child = spawn("setpriv", ["--reuid=1000", "--regid=1000", "--clear-groups", "/usr/bin/node", "-e", client], { cwd: "/" });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    await new Promise((r) => child.once("close", r));
    expect(out).toBe("hi");
    const identity = JSON.parse(gateway.preambles[0]!.slice(`NEMOCLAW-CALLER ${SECRET} `.length)) as { exe: string; sha256: string; pid: number };
    expect(identity.exe).toBe("/usr/bin/node");
    expect(identity.sha256).toBe(createHash("sha256").update(await readFile("/usr/bin/node")).digest("hex"));
    expect(identity.pid).toBe(child.pid);
  });

  it("relays 16 MB each way intact to a client that reads nothing for 0.5 s; a client that ends its side still gets the whole answer", async () => {
    const upload = randomBytes(16 * 1024 * 1024);
    const download = randomBytes(16 * 1024 * 1024);
    let received: string | undefined;
    gateway = await startGateway((socket, _preamble, rest) => {
      const hash = createHash("sha256").update(rest);
      socket.on("data", (c: Buffer) => hash.update(c));
      socket.on("end", () => {
        received = hash.digest("hex");
        socket.end(download);
      });
    });
    const { got, error } = await exchange(upload, { readAfterMs: 500 });
    expect(error).toBeNull();
    expect(received).toBe(createHash("sha256").update(upload).digest("hex"));
    expect(got.length).toBe(download.length);
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(download).digest("hex"));
  });

  it("with no socket the client gets a 503 naming it and ENOENT; with a socket nobody serves, ECONNREFUSED", async () => {
    const missing = await exchange("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n");
    const text = missing.got.toString();
    expect(text).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    const body = JSON.parse(text.split("\r\n\r\n")[1]!) as { error: string; reason: string; hint: string };
    expect(body).toEqual({ error: "nemoclaw egress unavailable", reason: `${socketPath()}: ENOENT`, hint: expect.stringContaining("openclaw nemoclaw <name> start") });
    expect(Number(/Content-Length: (\d+)/.exec(text)?.[1])).toBe(Buffer.byteLength(text.split("\r\n\r\n")[1]!));

    // A socket file left by a process that died: bound, nobody accepting.
    const leftover = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(socketPath())}, () => process.kill(process.pid, "SIGKILL"))`]);
    await new Promise((r) => leftover.once("exit", r));
    const refused = await exchange("GET / HTTP/1.1\r\n\r\n");
    expect(refused.got.toString()).toMatch(new RegExp(`^HTTP/1\\.1 503 [^]*"reason":"${socketPath().replace(/[/.]/g, "\\$&")}: ECONNREFUSED"`));
  });

  it("when the gateway answers and closes while the client is still sending, the client gets the answer, not a reset (20 tries)", async () => {
    const answer = "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    gateway = await startGateway((socket) => {
      // Answers at once and closes with the client's bytes unread: the kernel resets the socket.
      socket.end(answer, () => socket.destroy());
    });
    for (let i = 0; i < 20; i++) {
      const { got } = await new Promise<{ got: string }>((resolve) => {
        let text = "";
        const s = net.connect(port, "127.0.0.1", () => {
          const junk = Buffer.alloc(64 * 1024, 0x61);
          const pump = (): void => {
            while (!s.destroyed && s.write(junk));
          };
          s.on("drain", pump);
          pump();
        });
        s.on("data", (c: Buffer) => {
          text += c.toString();
          if (text.endsWith("\r\n\r\n")) s.destroy();
        });
        s.on("error", () => undefined);
        s.on("close", () => resolve({ got: text }));
      });
      expect(got, `try ${i}`).toBe(answer);
    }
  });

  it("reaches a socket owned by another host user (mode 0600) under that user's ids, holding no DAC override", async () => {
    gateway = await startGateway(echo);
    await chown(socketPath(), 1000, 1000);
    await chmod(socketPath(), 0o600);
    const { got, error } = await exchange("owned by 1000");
    expect({ got: got.toString(), error }).toEqual({ got: "owned by 1000", error: null });
    // Control: a socket of another user's it is not allowed to write is refused (the forwarder
    // does not carry root's override): owner 1000, mode 0000.
    await chmod(socketPath(), 0o000);
    const denied = await exchange("x");
    expect(denied.got.toString()).toContain(`${socketPath()}: EACCES`);
  });

  it("serves 300 connections at once (more than wait for a caller at a time)", async () => {
    gateway = await startGateway(echo);
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => exchange(`conn ${i}`)));
    expect(results.map((r) => r.got.toString())).toEqual(Array.from({ length: 300 }, (_, i) => `conn ${i}`));
    expect(gateway.preambles).toHaveLength(300);
  });

  it("with few descriptors (nofile 48) it takes no more connections than it can relay: 100 at once all get through, none gets a 503 for EMFILE", async () => {
    // Each answer comes 200 ms late, so the connections overlap.
    gateway = await startGateway((socket, _preamble, rest) => {
      const answer = (d: Buffer): void => void setTimeout(() => socket.end(d), 200);
      if (rest.length > 0) answer(rest);
      else socket.once("data", answer);
    });
    const lowPort = await freePort();
    const low = await startSupervisor(lowPort, ["prlimit", "--nofile=48:48"]);
    try {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => exchange(`conn ${i}`, { port: lowPort, keepOpen: true })));
      expect(results.map((r) => r.got.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `conn ${i}`));
    } finally {
      const exited = new Promise((r) => low.child.once("exit", r));
      low.child.kill("SIGTERM");
      await exited;
    }
  });

  it("holds only setuid and setgid, no bounding set, no_new_privs and an empty environment; killed, it is started again", async () => {
    gateway = await startGateway(echo);
    const pid = await forwarderPid();
    expect(pid).toBeDefined();
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s+(\\S+)$`, "m").exec(status)?.[1];
    expect({ eff: field("CapEff"), prm: field("CapPrm"), bnd: field("CapBnd"), amb: field("CapAmb"), nnp: field("NoNewPrivs") }).toEqual({
      eff: "00000000000000c0",
      prm: "00000000000000c0",
      bnd: "0000000000000000",
      amb: "0000000000000000",
      nnp: "1",
    });
    expect(await readFile(`/proc/${pid}/environ`, "utf8")).toBe("");

    process.kill(pid!, "SIGKILL");
    await waitFor(() => main.output().includes("the egress forwarder exited (SIGKILL); starting it again in 1 s"), "the supervisor's restart", 30_000);
    await waitFor(async () => (await exchange("after restart").catch(() => undefined))?.got.toString() === "after restart", "the restarted forwarder", 30_000, 100);
    expect((await forwarderPid()) !== pid).toBe(true);
  });
});
