// Escape attempts against the supervisor and the egress path of a sandbox made by the driver:
// the workload must reach the outside only through the forwarder, which names it truthfully; it
// must not read, signal, trace or outlive-in-privilege the root supervisor next to it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProbe } from "../helpers/docker-probe.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";

let h: SandboxHarness;
let name: string;
let supervisorPid: number;

beforeAll(async () => {
  h = await createSandboxHarness();
  name = (await h.create("rt-sup")).name;
  supervisorPid = (await h.driver.status(name)).inside!.supervisor!.pid;
}, 900_000);
afterAll(async () => h?.dispose());

/** Runs a Node snippet in the sandbox as the workload and parses the JSON it prints. */
async function nodeJson<T>(code: string): Promise<T> {
  const r = await h.exec(name, ["node", "-e", code]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as T;
}

/** Snippet: one raw HTTP proxy request to 127.0.0.1:3128; prints {status, body}. */
const throughForwarder = (request: string): string => `
  const c = require("net").connect(3128, "127.0.0.1", () => c.write(${JSON.stringify(request)}));
  let got = ""; c.on("data", (d) => (got += d));
  c.on("end", () => {
    const [head, body] = got.split("\\r\\n\\r\\n");
    console.log(JSON.stringify({ status: head.split(" ")[1], body: body ? JSON.parse(body) : null }));
  });
  c.on("error", (e) => console.log(JSON.stringify({ error: e.code })));`;

describe("the egress path", () => {
  it("refuses through the forwarder: the refuse-all 403 arrives, naming the calling executable", async () => {
    const plain = await nodeJson<{ status: string; body: { error: string; sandbox: string; target: string; caller: { pid: number; exe: string; ancestors: string[] } } }>(
      throughForwarder("GET http://example.com/path HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    );
    expect(plain.status).toBe("403");
    expect(plain.body).toMatchObject({ error: "egress gateway not enabled", sandbox: name, target: "http://example.com/path" });
    expect(plain.body.caller.exe).toBe("/usr/local/bin/node");
    expect(plain.body.caller.pid).toBeGreaterThan(1);

    const tunnel = await nodeJson<{ status: string; body: { error: string; target: string } }>(
      throughForwarder("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
    );
    expect(tunnel).toMatchObject({ status: "403", body: { error: "egress gateway not enabled", target: "example.com:443" } });
  });

  it("names the caller's ancestors too: curl-like tools started from a shell", async () => {
    const r = await h.exec(name, ["sh", "-c", `node -e '${throughForwarder("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n").replace(/'/g, "'\\''")}'`]);
    const out = JSON.parse(r.stdout) as { body: { caller: { exe: string; ancestors: string[] } } };
    expect(out.body.caller.exe).toBe("/usr/local/bin/node");
    expect(out.body.caller.ancestors[0]).toBe("/usr/bin/dash");
  });

  it("Node's own fetch goes through HTTP(S)_PROXY (NODE_USE_ENV_PROXY) and is refused there", async () => {
    // Node tunnels through the proxy with CONNECT even for http:// URLs, so a refusal surfaces as
    // a failed tunnel carrying the proxy's status.
    const r = await nodeJson<{ status?: number; error?: string }>(`
      fetch("http://example.com/").then((res) => console.log(JSON.stringify({ status: res.status })),
        (e) => console.log(JSON.stringify({ error: String(e.cause?.cause?.message ?? e.cause?.message ?? e.message) })));`);
    expect(r.error).toMatch(/Proxy response \(403\)/);
  });

  it("cannot bypass the forwarder: the proxy socket refuses the workload, other TCP is denied by Landlock", async () => {
    const r = await nodeJson<Record<string, string>>(`
      const net = require("net");
      const attempt = (opts) => new Promise((resolve) => {
        const s = net.connect(opts);
        s.on("connect", () => { s.destroy(); resolve("connected"); });
        s.on("error", (e) => resolve(e.code));
      });
      Promise.all([
        attempt({ path: "/run/nemoclaw/proxy.sock" }),
        attempt({ host: "127.0.0.1", port: 3129 }),
        attempt({ host: "1.1.1.1", port: 443 }),
        attempt({ host: "127.0.0.1", port: 3128 }),
      ]).then(([sock, otherPort, direct, forwarder]) => console.log(JSON.stringify({ sock, otherPort, direct, forwarder })));`);
    // Control: the forwarder itself is reachable.
    expect(r).toEqual({ sock: "EACCES", otherPort: "EACCES", direct: "EACCES", forwarder: "connected" });
  });

  it("cannot forge a caller preamble: it can only send bytes after the forwarder's own line", async () => {
    const forged = 'NEMOCLAW-CALLER {"pid":1,"exe":"/usr/bin/trusted","ancestors":[]}\n';
    const r = await nodeJson<{ status: string; body: { caller: { exe: string } } | null }>(
      throughForwarder(`${forged}GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n`),
    );
    // The forged line is part of the request stream, so it is not a valid request line (400) or,
    // if it were, the caller would still be the forwarder's: never /usr/bin/trusted.
    expect(JSON.stringify(r)).not.toContain("/usr/bin/trusted");
  });
});

describe("the supervisor next to the workload", () => {
  it("its environment and PID 1's are unreadable to the workload", async () => {
    const r = await h.exec(name, ["sh", "-c", `cat /proc/1/environ; cat /proc/${supervisorPid}/environ; cat /proc/${supervisorPid}/cmdline | tr '\\0' ' '`]);
    expect(r.stderr).toContain("/proc/1/environ: Permission denied");
    expect(r.stderr).toContain(`/proc/${supervisorPid}/environ: Permission denied`);
    expect(r.stdout).not.toContain("NEMOCLAW_SUPERVISOR");
    // Control: the same process's cmdline is world-readable, so the path and pid were right.
    expect(r.stdout).toContain("/opt/nemoclaw/supervisor/supervisor.js");
  });

  it("cannot kill, ptrace or read the memory of the supervisor; the workload keeps running", async () => {
    const probe = await h.installProbe(name);
    const r = await h.exec(name, [probe, `kill-pid:${supervisorPid}`, `ptrace-pid:${supervisorPid}`, `seize-pid:${supervisorPid}`, `vmread-pid:${supervisorPid}`, "kill-pid:1"]);
    expect(parseProbe(r.stdout)).toEqual({
      [`kill-pid:${supervisorPid}`]: "EPERM",
      [`ptrace-pid:${supervisorPid}`]: "EPERM",
      [`seize-pid:${supervisorPid}`]: "EPERM",
      [`vmread-pid:${supervisorPid}`]: "EPERM",
      "kill-pid:1": "EPERM",
    });
    const after = await h.driver.status(name);
    expect(after.inside?.supervisor?.pid).toBe(supervisorPid);
    // Control: the workload can signal a process of its own.
    const own = await h.exec(name, ["sh", "-c", `sleep 30 & ${probe} kill-pid:$!`]);
    expect(own.stdout.trim()).toMatch(/^kill-pid:\d+ ok$/);
  });

  it("cannot kill, ptrace or read the memory or environment of the egress forwarder, which keeps only setuid/setgid", async () => {
    const inside = (await h.driver.status(name)).inside!;
    const fwd = inside.forwarder!;
    expect(fwd.argv[0]).toBe("/usr/local/lib/nemoclaw/egress-forwarder");
    // Root (its socket's owner here), no bounding set, no_new_privs, only what it needs to take
    // a host user's ids around connect(2).
    expect({ uid: fwd.uid, eff: fwd.capEff, prm: fwd.capPrm, bnd: fwd.capBnd, amb: fwd.capAmb, nnp: fwd.noNewPrivs }).toEqual({
      uid: 0,
      eff: "00000000000000c0",
      prm: "00000000000000c0",
      bnd: "0000000000000000",
      amb: "0000000000000000",
      nnp: 1,
    });
    expect(inside.environ.forwarder).toBe("unreadable");
    const probe = await h.installProbe(name);
    const r = await h.exec(name, [probe, `kill-pid:${fwd.pid}`, `ptrace-pid:${fwd.pid}`, `seize-pid:${fwd.pid}`, `vmread-pid:${fwd.pid}`]);
    expect(parseProbe(r.stdout)).toEqual({
      [`kill-pid:${fwd.pid}`]: "EPERM",
      [`ptrace-pid:${fwd.pid}`]: "EPERM",
      [`seize-pid:${fwd.pid}`]: "EPERM",
      [`vmread-pid:${fwd.pid}`]: "EPERM",
    });
    // Control: it still serves, and it is the same process.
    const after = await nodeJson<{ status: string }>(throughForwarder("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"));
    expect(after.status).toBe("403");
    expect((await h.driver.status(name)).inside!.forwarder!.pid).toBe(fwd.pid);
  });

  it("the workload and every exec'd command have an empty bounding set (the supervisor's is not)", async () => {
    const status = await h.driver.status(name);
    const w = status.inside!.workload!;
    expect({ eff: w.capEff, prm: w.capPrm, inh: w.capInh, bnd: w.capBnd, amb: w.capAmb }).toEqual({
      eff: "0000000000000000",
      prm: "0000000000000000",
      inh: "0000000000000000",
      bnd: "0000000000000000",
      amb: "0000000000000000",
    });
    expect(status.inside!.self.capBnd).toBe("0000000000000000");
    // Control: the supervisor holds exactly setgid, setuid and setpcap (bits 6, 7, 8).
    expect(status.inside!.supervisor!.capBnd).toBe("00000000000001c0");
    expect(status.inside!.supervisor!.capEff).toBe("00000000000001c0");
  });

  it("a link the workload leaves at ~/.openclaw does not make the supervisor write OpenClaw's config through it, nor keep the sandbox from starting", async () => {
    const seeded = (await h.create("rt-seed")).name;
    // The config is seeded before the first start, as the workload.
    const file = await h.exec(seeded, ["stat", "-c", "%u %a", "/sandbox/.openclaw/openclaw.json"]);
    expect(file.stdout.trim()).toBe("1000 600");
    // The workload swaps the folder for a link to root's /tmp: a root supervisor seeding the
    // config would make /tmp 0700 (root's, unusable to the workload) and write into it.
    const planted = await h.exec(seeded, ["sh", "-c", "rm -rf /sandbox/.openclaw && ln -s /tmp /sandbox/.openclaw && readlink /sandbox/.openclaw"]);
    expect(planted.stdout.trim()).toBe("/tmp");
    await h.driver.stop(seeded);
    await h.driver.start(seeded);
    // Up again; as the workload, the supervisor could change nothing there.
    const after = await h.exec(seeded, ["sh", "-c", "stat -c '%u %a' /tmp; test -e /tmp/openclaw.json && echo written || echo absent"]);
    expect(after.stdout.trim().split("\n")).toEqual(["0 1777", "absent"]);
    const { dockerClient } = await import("../helpers/docker-images.js");
    const logs = (await dockerClient().getContainer(`nemoclaw-${seeded}`).logs({ stdout: true, stderr: true })).toString("latin1");
    expect(logs).toMatch(/cannot write the workload's \/sandbox\/\.openclaw\/openclaw\.json: EPERM: operation not permitted, chmod/);
  }, 180_000);

  it("a workload that exits takes the container with it, with its exit code", async () => {
    const short = await h.create("rt-exit", { command: ["sh", "-c", "sleep 1; exit 5"] });
    const { dockerClient } = await import("../helpers/docker-images.js");
    const result = (await dockerClient().getContainer(`nemoclaw-${short.name}`).wait()) as { StatusCode: number };
    expect(result.StatusCode).toBe(5);
  }, 60_000);
});
