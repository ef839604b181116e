// The OpenClaw gateway as a sandbox's workload, and the tools' domain below it. A real gateway
// (the staged OpenClaw) inside a real sandbox made by the driver; from the host it answers through
// the relay (127.0.0.1 → the relay socket → the supervisor → 127.0.0.1:18789 inside). The tools'
// domain is entered the way the backend plugin enters it (toolShellArgv), through the sandbox's
// launcher like `openclaw nemoclaw <name> exec`; every refusal is asserted by its errno.
import { readFile } from "node:fs/promises";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostRelay } from "../../blueprint/runtime/gateway-relay.js";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { GATEWAY_CONFIG, GATEWAY_PORT, toolShellArgv } from "../../blueprint/sandbox/gateway-inside.js";
import { sandboxDir } from "../../blueprint/state/paths.js";
import { GATEWAY_COMPILE_CACHE } from "../../blueprint/supervisor/gateway-relay.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";

let h: SandboxHarness;
let name: string;
let relay: net.Server;
let base: string;
let gatewayPid: number;

/** A node one-liner's output, run in the tools' domain. */
async function inTools(script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return h.exec(name, toolShellArgv(`/usr/local/bin/node -e '${script}'`));
}

const FIND_GATEWAY = `const fs=require("fs");for(const p of fs.readdirSync("/proc")){if(!/^\\d+$/.test(p))continue;try{if(fs.readFileSync("/proc/"+p+"/comm","utf8").trim().startsWith("openclaw-gatewa")){console.log(p);break}}catch{}}`;

beforeAll(async () => {
  h = await createSandboxHarness();
  const record = await h.create("gw", { gateway: true });
  name = record.name;
  relay = await startHostRelay(h.driver.gatewaySocket(name), 0);
  base = `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
  // The gateway takes a while to start inside (several seconds, more on a busy machine).
  const deadline = Date.now() + 240_000;
  for (;;) {
    const status = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) break;
    if (Date.now() > deadline) {
      const logs = await h.driver.execCapture(name, ["sh", "-c", "tail -n 40 /tmp/openclaw/*.log 2>&1"]).catch((e) => ({ stdout: String(e) }));
      throw new Error(`the gateway inside never became ready (last status ${status}); its log:\n${logs.stdout}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const found = await inTools(FIND_GATEWAY);
  gatewayPid = Number(found.stdout.trim());
  if (!Number.isInteger(gatewayPid) || gatewayPid < 2) throw new Error(`no gateway process found inside: ${JSON.stringify(found)}`);
}, 600_000);
afterAll(async () => {
  relay?.close();
  await h?.dispose();
});

describe("the gateway inside, reached from the host", () => {
  it("answers /healthz and /readyz on the host's loopback through the relay", async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it("refuses an unauthenticated API call (token auth is on)", async () => {
    const r = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect([401, 403, 404]).toContain(r.status);
    expect(r.status).not.toBe(200);
  });

  it("runs as uid 1000 with no_new_privs, seccomp filtering and no capabilities", async () => {
    const { stdout } = await inTools(`process.stdout.write(require("fs").readFileSync("/proc/${gatewayPid}/status","utf8"))`);
    expect(stdout).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(stdout).toMatch(/^CapEff:\s+0+$/m);
  });

  it("holds its token in its config only: not in the workload's environment", async () => {
    const token = (await readFile(`${sandboxDir(h.stateDir, name)}/gateway.token`, "utf8")).trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const info = await h.driver.docker.getContainer(sandboxContainerName(name)).inspect();
    const supervisor = JSON.parse(info.Config.Env.find((e) => e.startsWith("NEMOCLAW_SUPERVISOR="))!.slice("NEMOCLAW_SUPERVISOR=".length)) as { env: Record<string, string>; seed: { content: string } };
    expect(Object.values(supervisor.env).join("\n")).not.toContain(token);
    expect(supervisor.seed.content).toContain(token);
  });
});

describe("the tools' domain cannot reach the gateway", () => {
  it("the gateway loaded the nemoclaw backend plugin from the staged supervisor", async () => {
    const r = await h.exec(name, ["sh", "-c", "cat /tmp/openclaw/*.log"]);
    expect(r.stdout).toContain('sandbox backend \\"nemoclaw\\" registered');
  });


  it("control: the gateway's own domain (the workload's lists) reads its config", async () => {
    const r = await h.exec(name, ["cat", GATEWAY_CONFIG]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('"mode": "token"');
  });

  it("reading /sandbox/.openclaw/openclaw.json fails with EACCES", async () => {
    const r = await inTools(`try{require("fs").readFileSync("${GATEWAY_CONFIG}");console.log("READ")}catch(e){console.log(e.code)}`);
    expect(r.stdout.trim()).toBe("EACCES");
  });

  it("listing the gateway's state dir and its logs fails with EACCES", async () => {
    const r = await inTools(`for(const d of ["/sandbox/.openclaw","/tmp/openclaw"]){try{require("fs").readdirSync(d);console.log(d,"LISTED")}catch(e){console.log(d,e.code)}}`);
    expect(r.stdout.trim().split("\n")).toEqual(["/sandbox/.openclaw EACCES", "/tmp/openclaw EACCES"]);
  });

  it(`connecting to 127.0.0.1:${GATEWAY_PORT} fails with EACCES; the forwarder (3128) still connects`, async () => {
    const r = await inTools(
      `const net=require("net");const t=(p)=>new Promise(r=>{const s=net.connect(p,"127.0.0.1");s.on("connect",()=>{s.destroy();r("CONNECTED")});s.on("error",e=>r(e.code))});(async()=>{console.log(await t(${GATEWAY_PORT}));console.log(await t(3128))})()`,
    );
    expect(r.stdout.trim().split("\n")).toEqual(["EACCES", "CONNECTED"]);
  });

  it("binding any TCP port fails with EACCES", async () => {
    const r = await inTools(`const s=require("net").createServer();s.on("error",e=>console.log(e.code));s.listen(18790,"127.0.0.1",()=>{console.log("LISTENING");s.close()})`);
    expect(r.stdout.trim()).toBe("EACCES");
  });

  it("kill -0 <gateway pid> fails with EPERM", async () => {
    const r = await inTools(`try{process.kill(${gatewayPid},0);console.log("SIGNALLED")}catch(e){console.log(e.code)}`);
    expect(r.stdout.trim()).toBe("EPERM");
  });

  it("reading /proc/<gateway pid>/environ fails with EACCES", async () => {
    const r = await inTools(`try{require("fs").readFileSync("/proc/${gatewayPid}/environ");console.log("READ")}catch(e){console.log(e.code)}`);
    expect(r.stdout.trim()).toBe("EACCES");
  });

  // The two checks above cannot tell the tools' domain from a bare `exec` (a sibling domain of the
  // gateway's is scoped from it as well). These can: the target is a process of the domain the
  // tools' launcher runs in, as the gateway is for the backend's commands; the control signals
  // and reads it from that domain, the attempt from the tools' domain nested in it.
  it("relative to its parent domain: kill -0 → EPERM and /proc/<pid>/environ → EACCES; the parent can do both", async () => {
    const probe = (who: string) =>
      `/usr/local/bin/node -e "let k,e;try{process.kill($P,0);k='SIGNALLED'}catch(x){k=x.code}try{require('fs').readFileSync('/proc/'+$P+'/environ');e='READ'}catch(x){e=x.code}console.log('${who}',k,e)"`;
    const launcher = toolShellArgv("").slice(0, -3).join(" ");
    const script = `sleep 300 & P=$!; ${probe("parent")}; ${launcher} /bin/sh -c "${probe("tool").replace(/"/g, '\\"')}"; kill $P`;
    const r = await h.exec(name, ["sh", "-c", script]);
    expect(r.stdout.trim().split("\n"), r.stderr).toEqual(["parent SIGNALLED READ", "tool EPERM EACCES"]);
  });

  it("can still work in /sandbox/workspace", async () => {
    const r = await h.exec(name, toolShellArgv("echo hi > /sandbox/workspace/t && cat /sandbox/workspace/t"));
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe("hi");
  });
});

// Last: it stops and starts the sandbox.
describe("the gateway's compile cache, kept on /sandbox across starts", () => {
  it("the tools' domain can neither read nor plant anything in it, by either path", async () => {
    const r = await inTools(
      `const fs=require("fs");for(const d of ["${GATEWAY_COMPILE_CACHE}","/tmp/node-compile-cache"]){try{fs.readdirSync(d);console.log(d,"LISTED")}catch(e){console.log(d,e.code)}try{fs.writeFileSync(d+"/planted","x");console.log(d,"WROTE")}catch(e){console.log(d,e.code)}}`,
    );
    expect(r.stdout.trim().split("\n"), r.stderr).toEqual([
      `${GATEWAY_COMPILE_CACHE} EACCES`,
      `${GATEWAY_COMPILE_CACHE} EACCES`,
      "/tmp/node-compile-cache EACCES",
      "/tmp/node-compile-cache EACCES",
    ]);
  });

  it("is the workload's own folder (0700), reached through root's link in /tmp, and holds what the first run compiled after a stop and start", async () => {
    const look = `readlink /tmp/node-compile-cache; stat -c '%u %a' ${GATEWAY_COMPILE_CACHE} /tmp/node-compile-cache/.; stat -c '%u %F' /tmp/node-compile-cache; find ${GATEWAY_COMPILE_CACHE} -type f | wc -l`;
    const before = await h.exec(name, ["sh", "-c", look]);
    expect(before.stdout.trim().split("\n").slice(0, 4), before.stderr).toEqual([GATEWAY_COMPILE_CACHE, "1000 700", "1000 700", "0 symbolic link"]);
    // Node writes the cache when the gateway exits: `stop` lets it exit cleanly.
    await h.driver.stop(name);
    await h.driver.start(name);
    const after = await h.exec(name, ["sh", "-c", look]);
    expect(after.stdout.trim().split("\n")[0]).toBe(GATEWAY_COMPILE_CACHE);
    expect(Number(after.stdout.trim().split("\n")[4]), after.stdout).toBeGreaterThan(10);
  });
});
