// Escape attempts against the sandbox's network isolation. The container has
// no interface but loopback (NetworkMode none) and Landlock denies TCP unless
// a port is listed; the one way out is a Unix socket mounted from the host.
// No case here sends anything off the host: inside the sandbox there is no
// route, which is exactly what is being checked.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME_DIR } from "../../blueprint/sandbox/container-spec.js";
import { dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { runNode, type RunOptions } from "../helpers/docker-run.js";
import { withLandlock } from "../helpers/shipped-policy.js";

const docker = dockerClient();
let image: string;

beforeAll(async () => {
  image = await ensureSandboxImage(docker);
}, 900_000);

/** Runs a Node snippet that prints one JSON value and returns it parsed. */
async function nodeJson<T>(code: string, options: RunOptions = {}): Promise<T> {
  const result = await runNode(docker, image, code, options);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as T;
}

/** Snippet: try a TCP connect to each [host, port] and collect the error codes. */
const connectAll = (targets: [string, number][]): string => `
  const net = require("net");
  const targets = ${JSON.stringify(targets)};
  Promise.all(targets.map(([host, port]) => new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 3000 });
    s.on("connect", () => { s.destroy(); resolve(host + ":" + port + " connected"); });
    s.on("timeout", () => { s.destroy(); resolve(host + ":" + port + " timeout"); });
    s.on("error", (e) => resolve(host + ":" + port + " " + e.code));
  }))).then((r) => console.log(JSON.stringify(r)));`;

describe("network", () => {
  it("has no network interface except loopback", async () => {
    const result = await nodeJson<{ interfaces: string[]; procNetDev: string[] }>(`
      const fs = require("fs");
      const procNetDev = fs.readFileSync("/proc/net/dev", "utf8").split("\\n").slice(2)
        .map((l) => l.split(":")[0].trim()).filter(Boolean);
      console.log(JSON.stringify({ interfaces: Object.keys(require("os").networkInterfaces()), procNetDev }));`);
    expect(result).toEqual({ interfaces: ["lo"], procNetDev: ["lo"] });
  });

  it("cannot resolve any name, through libc or through Node's own resolver", async () => {
    const result = await nodeJson<{ lookup: string; resolve4: string; localhost: string }>(`
      const dns = require("dns");
      const r = new dns.promises.Resolver({ timeout: 1000, tries: 1 });
      Promise.all([
        dns.promises.lookup("registry.npmjs.org").then(() => "resolved", (e) => e.code),
        r.resolve4("example.com").then(() => "resolved", (e) => e.code),
        dns.promises.lookup("localhost", { family: 4 }).then((a) => a.address, (e) => e.code),
      ]).then(([lookup, resolve4, localhost]) => console.log(JSON.stringify({ lookup, resolve4, localhost })));`);
    expect(result.lookup).toMatch(/^(EAI_AGAIN|ENOTFOUND)$/);
    expect(result.resolve4).toMatch(/^(ECONNREFUSED|ETIMEOUT|ENOTFOUND|ESERVFAIL)$/);
    // Control: name resolution itself works; /etc/hosts still answers.
    expect(result.localhost).toBe("127.0.0.1");
  });

  it("has no route anywhere: direct IPv4, IPv6, metadata and UDP fail for want of a route", async () => {
    // Landlock lets these ports through so that only the missing route can stop them.
    const targets: [string, number][] = [
      ["1.1.1.1", 443],
      ["2606:4700:4700::1111", 443],
      ["169.254.169.254", 80],
      ["10.0.0.1", 3128],
    ];
    const options = { landlock: withLandlock({ connectTcp: [443, 80, 3128] }) };
    const tcp = await nodeJson<string[]>(connectAll(targets), options);
    // IPv6 is disabled in a network-less container, so there is not even a source address.
    expect(tcp).toEqual([
      "1.1.1.1:443 ENETUNREACH",
      expect.stringMatching(/^2606:4700:4700::1111:443 (ENETUNREACH|EADDRNOTAVAIL)$/),
      "169.254.169.254:80 ENETUNREACH",
      "10.0.0.1:3128 ENETUNREACH",
    ]);

    const udp = await nodeJson<string[]>(`
      const dgram = require("dgram");
      const send = (type, host) => new Promise((resolve) => {
        const s = dgram.createSocket(type);
        s.send("x", 53, host, (e) => { s.close(); resolve(host + " " + (e ? e.code : "sent")); });
      });
      Promise.all([send("udp4", "8.8.8.8"), send("udp6", "2001:4860:4860::8888")]).then((r) => console.log(JSON.stringify(r)));`);
    expect(udp).toEqual(["8.8.8.8 ENETUNREACH", expect.stringMatching(/^2001:4860:4860::8888 (ENETUNREACH|EADDRNOTAVAIL)$/)]);
  });

  it("denies TCP through Landlock, before routing is even considered, except to the forwarder's port", async () => {
    // The shipped lists: connect to 3128 only (nothing listens on it in this bare container).
    const tcp = await nodeJson<string[]>(connectAll([["1.1.1.1", 443], ["127.0.0.1", 80], ["127.0.0.1", 3128]]));
    expect(tcp).toEqual(["1.1.1.1:443 EACCES", "127.0.0.1:80 EACCES", "127.0.0.1:3128 ECONNREFUSED"]);
    const none = await nodeJson<string[]>(connectAll([["127.0.0.1", 3128]]), { landlock: withLandlock({ connectTcp: [] }) });
    expect(none).toEqual(["127.0.0.1:3128 EACCES"]);
  });

  it("Landlock allows exactly the listed loopback TCP ports", async () => {
    const serveAndConnect = `
      const net = require("net");
      const server = net.createServer((c) => c.end("hi"));
      server.on("error", (e) => { console.log(JSON.stringify("listen " + e.code)); process.exit(0); });
      server.listen(3128, "127.0.0.1", () => {
        const c = net.connect(3128, "127.0.0.1");
        c.on("data", (d) => { console.log(JSON.stringify("got " + d)); process.exit(0); });
        c.on("error", (e) => { console.log(JSON.stringify("connect " + e.code)); process.exit(0); });
      });`;
    expect(await nodeJson(serveAndConnect, { landlock: withLandlock({ bindTcp: [3128], connectTcp: [3128] }) })).toBe("got hi");
    expect(await nodeJson(serveAndConnect, { landlock: withLandlock({ bindTcp: [3128], connectTcp: [] }) })).toBe("connect EACCES");
    expect(await nodeJson(serveAndConnect)).toBe("listen EACCES");
  });

  describe("the way out", () => {
    let dir: string;
    let server: net.Server;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-sock-"));
      await chmod(dir, 0o755);
      server = net.createServer((c) => c.end("from the host runtime\n"));
      await new Promise<void>((resolve) => server.listen(path.join(dir, "proxy.sock"), resolve));
      // The workload (uid 1000) must be able to connect; the runtime checks peers itself.
      await chmod(path.join(dir, "proxy.sock"), 0o666);
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });

    it("is the Unix socket mounted from the host, reachable under Landlock", async () => {
      const socket = `${RUNTIME_DIR}/proxy.sock`;
      const reply = await nodeJson<string>(
        `const c = require("net").connect(${JSON.stringify(socket)});
         let got = ""; c.on("data", (d) => (got += d)); c.on("end", () => console.log(JSON.stringify(got)));
         c.on("error", (e) => console.log(JSON.stringify(e.code)));`,
        { mounts: [{ source: path.join(dir, "proxy.sock"), target: socket }] },
      );
      expect(reply).toBe("from the host runtime\n");
    });
  });
});
