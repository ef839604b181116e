// Borrowing another binary's identity, from inside a real sandbox (the real driver, supervisor,
// forwarder, daemon and gateway; upstreams on the host's 127.0.0.1): the ways an untrusted agent
// would try to make the egress gateway believe an allowed binary sent its request, to reach the
// proxy socket without the forwarder, and to turn an approval into a wildcard. Every refusal is
// checked for its specific reason and against an upstream that must not have seen the request.
import { createReadStream } from "node:fs";
import { chown, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { assertWorkloadUidFree } from "../../blueprint/sandbox/proxy-guard.js";
import { proxySocketFile, sandboxCallerSecretFile } from "../../blueprint/state/paths.js";
import { dockerClient } from "../helpers/docker-images.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { parseSpoof, spoofBinary } from "../helpers/identity-probe.js";
import { repoRoot } from "../helpers/node24.js";

let h: SandboxHarness;
let up: Upstream;
let name: string;
const SPOOF = "/sandbox/spoof";
const SLEEP = "/usr/bin/sleep";

const seen = (p: string): boolean => up.seen.some((s) => s.url === p);

/** Runs the spoof probe (or another command) inside as the workload and parses the proxy's answer. */
async function inside(argv: readonly string[]): Promise<ReturnType<typeof parseSpoof>> {
  const r = await h.exec(name, argv);
  return parseSpoof(r.stdout);
}

async function pendingApprovals(host: string): Promise<Array<{ id: string; binary: string }>> {
  const { approvals } = (await controlRequest(h.stateDir, "POST", "/egress/approvals/list", {})) as { approvals: Array<{ id: string; host: string; status: string; binary: string }> };
  return approvals.filter((x) => x.host === host && x.status === "pending");
}

async function pendingApproval(host: string): Promise<{ id: string; binary: string }> {
  for (let i = 0; i < 100; i++) {
    const [found] = await pendingApprovals(host);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no pending approval for ${host} within 10 s`);
}

beforeAll(async () => {
  h = await createSandboxHarness({ daemon: false });
  up = await startHttpUpstream();
  const hosts = ["spoof", "sleep", "dash", "tool", "glob", "held"].map((x) => `${x}.sbx.test`);
  await writeFile(path.join(h.stateDir, "egress.json"), JSON.stringify({ hostMap: Object.fromEntries(hosts.map((x) => [x, "127.0.0.1"])), approvalTimeoutMs: 20_000 }));
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
  const base = await readFile(path.join(repoRoot, "policies/openclaw-sandbox.yaml"), "utf8");
  const rule = (key: string, host: string, binary: string): string =>
    `  ${key}:\n    endpoints:\n      - { host: ${host}, port: ${up.port}, allowed_ips: [127.0.0.1/32] }\n    binaries: [{ path: ${binary} }]\n`;
  const policyFile = path.join(h.stateDir, "identity-policy.yaml");
  await writeFile(
    policyFile,
    `${base}\n${rule("spoof_only", "spoof.sbx.test", SPOOF)}${rule("sleep_only", "sleep.sbx.test", SLEEP)}${rule("dash_only", "dash.sbx.test", "/usr/bin/dash")}${rule("tool_only", "tool.sbx.test", "/sandbox/tool")}`,
  );
  name = (await h.create("ident", { policyFile })).name;
  const code = await h.driver.exec(name, ["sh", "-c", `cat > ${SPOOF} && chmod 0755 ${SPOOF}`], {
    stdin: createReadStream(await spoofBinary()),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
  });
  if (code !== 0) throw new Error(`installing the spoof probe failed (exit ${code})`);
}, 600_000);

afterAll(async () => {
  await h?.dispose();
  await up?.close();
});

describe("caller identity from inside a sandbox", () => {
  it("control: the probe itself is named and served where it is allowed, refused where it is not", async () => {
    expect((await inside([SPOOF, "connect", "spoof.sbx.test", String(up.port), "/control"])).status).toBe(200);
    expect(seen("/control")).toBe(true);
    const r = await inside([SPOOF, "connect", "sleep.sbx.test", String(up.port), "/honest"]);
    expect(r.status).toBe(403);
    expect(r.body?.reason).toMatch(/\/sandbox\/spoof is not in the binaries of network policy sleep_only/);
    expect(seen("/honest")).toBe(false);
  });

  it("an idle allowed binary holding an inherited socket does not lend its name: holders that disagree are refused, both named", async () => {
    const r = await inside([SPOOF, "fork-exec", "sleep.sbx.test", String(up.port), "/borrowed", SLEEP]);
    expect(r.status).toBe(403);
    expect(r.body?.reason).toMatch(/an unidentified process \(the processes holding the connection run different executables: /);
    expect(r.body?.reason).toMatch(/\/usr\/bin\/sleep \(pid \d+\)/);
    expect(r.body?.reason).toMatch(/\/sandbox\/spoof \(pid \d+\)/);
    expect(seen("/borrowed")).toBe(false);
  });

  it("a sender that makes itself non-dumpable is not skipped: an uninspectable process means unidentified", async () => {
    const r = await inside([SPOOF, "nondumpable", "sleep.sbx.test", String(up.port), "/hidden", SLEEP]);
    expect(r.status).toBe(403);
    expect(r.body?.reason).toMatch(/cannot inspect every process that might hold the connection: pid \d+ \(spoof: EACCES\)/);
    expect(seen("/hidden")).toBe(false);
  });

  it("a spoofed request to an unknown host is refused at once, never shown for approval under the borrowed name", async () => {
    const r = await inside([SPOOF, "fork-exec", "held.sbx.test", String(up.port), "/approve-me", SLEEP]);
    expect(r.status).toBe(403);
    expect(r.body?.reason).toMatch(/no network policy allows held\.sbx\.test:\d+; an unidentified process \(the processes holding the connection run different executables: .*\) cannot be approved/);
    expect(await pendingApprovals("held.sbx.test")).toEqual([]);
    expect(seen("/approve-me")).toBe(false);
  });

  it("a program started by an allowed binary is not that binary: ancestors are shown, never matched", async () => {
    const r = await inside(["sh", "-c", `${SPOOF} connect dash.sbx.test ${up.port} /ancestor; true`]);
    expect(r.status).toBe(403);
    expect(r.body?.reason).toMatch(/\/sandbox\/spoof \(started by \/usr\/bin\/dash.*; ancestors are not matched\) is not in the binaries of network policy dash_only/);
    expect(seen("/ancestor")).toBe(false);
  });

  it("a different file at an allowed path is not that binary (sha256 pinned on first use); a copy elsewhere is not it either", async () => {
    expect((await h.exec(name, ["cp", SPOOF, "/sandbox/tool"])).exitCode).toBe(0);
    expect((await inside(["/sandbox/tool", "connect", "tool.sbx.test", String(up.port), "/first-use"])).status).toBe(200);
    const pins = JSON.parse(await readFile(path.join(h.stateDir, "sandboxes", name, "egress", "binaries.json"), "utf8")) as { pins: Record<string, string> };
    expect(pins.pins["/sandbox/tool"]).toMatch(/^[0-9a-f]{64}$/);

    const copy = await inside(["sh", "-c", `cp ${SPOOF} /sandbox/tool-copy && exec /sandbox/tool-copy connect tool.sbx.test ${up.port} /copy`]);
    expect(copy.status).toBe(403);
    expect(copy.body?.reason).toMatch(/\/sandbox\/tool-copy .*is not in the binaries of network policy tool_only/);

    // Same path, other content (a trailing byte: the ELF still runs).
    expect((await h.exec(name, ["sh", "-c", `cp ${SPOOF} /sandbox/tool.new && printf x >> /sandbox/tool.new && mv /sandbox/tool.new /sandbox/tool`])).exitCode).toBe(0);
    const swapped = await inside(["/sandbox/tool", "connect", "tool.sbx.test", String(up.port), "/swapped"]);
    expect(swapped.status).toBe(403);
    expect(swapped.body?.reason).toMatch(/\/sandbox\/tool \(pid \d+\) is not the file first seen at that path: sha256 [0-9a-f]{16}… now, [0-9a-f]{16}… pinned on first use/);
    expect(seen("/copy")).toBe(false);
    expect(seen("/swapped")).toBe(false);
  });

  it("approve --always for a binary named /sandbox/* writes a rule for exactly that file, not a wildcard", async () => {
    const STAR = "/sandbox/*";
    expect((await h.exec(name, ["cp", SPOOF, STAR])).exitCode).toBe(0);
    const first = inside([STAR, "connect", "glob.sbx.test", String(up.port), "/star"]);
    const approval = await pendingApproval("glob.sbx.test");
    expect(approval.binary).toBe(STAR);
    await controlRequest(h.stateDir, "POST", "/egress/approvals/decide", { id: approval.id, decision: "approve", always: true, allowedIps: ["127.0.0.1/32"] });
    expect((await first).status).toBe(200);
    const live = (await controlRequest(h.stateDir, "POST", "/egress/policy/get", { sandbox: name })) as { yaml: string };
    expect(live.yaml).toContain("/sandbox/\\*");

    const other = await inside([SPOOF, "connect", "glob.sbx.test", String(up.port), "/not-star"]);
    expect(other.status).toBe(403);
    expect(other.body?.reason).toMatch(/\/sandbox\/spoof is not in the binaries of network policy approved_glob\.sbx\.test_\d+/);
    expect(seen("/not-star")).toBe(false);
    // Control: the approved file itself still passes.
    expect((await inside([STAR, "connect", "glob.sbx.test", String(up.port), "/star-again"])).status).toBe(200);
  });
});

describe("the proxy socket when the host daemon runs as the workload's uid", () => {
  it("the caller secret is nowhere the workload can read: not its environment, not PID 1's or the supervisor's", async () => {
    const secret = (await readFile(sandboxCallerSecretFile(h.stateDir, name), "utf8")).trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const supervisorPid = (await h.driver.status(name)).inside!.supervisor!.pid;
    const r = await h.exec(name, [
      "node",
      "-e",
      `const fs = require("fs");
       const found = [], refused = {};
       for (const p of fs.readdirSync("/proc").filter((e) => /^\\d+$/.test(e))) {
         for (const f of ["environ", "cmdline"]) {
           try { if (fs.readFileSync("/proc/" + p + "/" + f, "latin1").includes(process.argv[1])) found.push(p + "/" + f); }
           catch (e) { if (p === "1" || p === process.argv[2]) refused[p + "/" + f] = e.code; }
         }
       }
       for (const f of fs.readdirSync("/run/nemoclaw")) { try { if (fs.readFileSync("/run/nemoclaw/" + f, "latin1").includes(process.argv[1])) found.push(f); } catch {} }
       console.log(JSON.stringify({ found, refused }));`,
      secret,
      String(supervisorPid),
    ]);
    const out = JSON.parse(r.stdout) as { found: string[]; refused: Record<string, string> };
    // Our own argv holds the secret (we passed it in to search for it): that is the only place.
    expect(out.found.filter((f) => !f.endsWith("/cmdline"))).toEqual([]);
    expect(out.found.length).toBeLessThanOrEqual(1);
    expect(out.refused).toMatchObject({ "1/environ": "EACCES", [`${supervisorPid}/environ`]: "EACCES" });
  });

  it("status states what it checked", async () => {
    expect((await h.driver.status(name)).proxyGuard).toBe("0600 uid 0; workload uid 1000 ≠ daemon uid 0; caller secret required");
  });

  it("with the socket owned by the workload's uid, a direct connection with a forged preamble is refused for its missing or wrong secret; normal egress still works", async () => {
    // What a daemon running as uid 1000 would have made: the socket owned by the workload's uid.
    await chown(proxySocketFile(h.stateDir, name), 1000, 1000);
    expect((await stat(proxySocketFile(h.stateDir, name))).uid).toBe(1000);

    const direct = async (preamble: string, p: string): Promise<{ status?: string; body?: { error: string; reason: string }; error?: string }> => {
      const request = `${preamble}GET http://spoof.sbx.test:${up.port}${p} HTTP/1.1\r\nHost: spoof.sbx.test:${up.port}\r\nConnection: close\r\n\r\n`;
      const r = await h.exec(name, [
        "node",
        "-e",
        `const c = require("net").connect("/run/nemoclaw/proxy.sock", () => c.write(process.argv[1]));
         let got = ""; c.on("data", (d) => (got += d));
         c.on("end", () => { const [head, body] = got.split("\\r\\n\\r\\n"); console.log(JSON.stringify({ status: head.split(" ")[1], body: body ? JSON.parse(body) : null })); });
         c.on("error", (e) => console.log(JSON.stringify({ error: e.code })));`,
        request,
      ]);
      return JSON.parse(r.stdout) as { status?: string; body?: { error: string; reason: string }; error?: string };
    };
    const noSecret = await direct(`NEMOCLAW-CALLER ${JSON.stringify({ pid: 7, exe: SPOOF, ancestors: [] })}\n`, "/forged");
    expect(noSecret).toMatchObject({ status: "400", body: { error: "bad preamble", reason: expect.stringMatching(/the caller preamble carries no caller secret/) } });
    const wrong = await direct(`NEMOCLAW-CALLER ${"0".repeat(64)} ${JSON.stringify({ pid: 7, exe: SPOOF, sha256: "0".repeat(64), ancestors: [], unidentified: null })}\n`, "/forged2");
    expect(wrong).toMatchObject({ status: "400", body: { error: "bad preamble", reason: expect.stringMatching(/the caller secret does not match this sandbox's/) } });
    expect(seen("/forged")).toBe(false);
    expect(seen("/forged2")).toBe(false);
    // The forwarder (connecting as the socket's owner, with the secret) still gets through.
    expect((await inside([SPOOF, "connect", "spoof.sbx.test", String(up.port), "/through-forwarder"])).status).toBe(200);
    expect((await h.driver.status(name)).proxyGuard).toBe("0600 uid 1000; WORKLOAD UID 1000 = DAEMON UID 1000; caller secret required");
  });

  it("a workload uid equal to the host daemon's is refused at creation when Docker does not remap uids", async () => {
    const docker = dockerClient();
    await expect(assertWorkloadUidFree(docker, { uid: 1000, gid: 1000 }, 1000)).rejects.toMatchObject({
      code: "workload-uid-collision",
      message: expect.stringMatching(/the sandbox user \(uid 1000\) is the uid this nemoclaw runtime runs as on the host/),
    });
    await expect(assertWorkloadUidFree(docker, { uid: 1000, gid: 1000 }, 0)).resolves.toBeUndefined();
  });
});
