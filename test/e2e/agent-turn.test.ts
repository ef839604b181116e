// A full agent turn in a gateway sandbox, driven from the host the way an operator does it:
// stub model servers on the host's 127.0.0.1 as the providers, the real host daemon (egress
// gateway + inference router) with stored keys, a real OpenClaw gateway inside a real sandbox,
// its port relayed to the host's loopback (startHostRelay, what `<name> gateway` runs), and the
// host's own `openclaw agent` CLI against that port with the sandbox's gateway token from the
// environment. The stub drives the turn: its first answer is an `exec` tool call, its second
// (after the tool result) plain text.
import { readdir, readFile, writeFile } from "node:fs/promises";
import type net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { inferenceLogFile, readInferenceEvents } from "../../blueprint/inference/audit.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { startHostRelay } from "../../blueprint/runtime/gateway-relay.js";
import { followRoute, gatewayModelsFor } from "../../blueprint/runtime/gateway-models.js";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { GATEWAY_CONFIG, hostClientHint } from "../../blueprint/sandbox/gateway-inside.js";
import { sandboxDir } from "../../blueprint/state/paths.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { repoRoot } from "../helpers/node24.js";
import { createOpenclawHome, type OpenclawHome } from "../helpers/openclaw.js";
import { lastToolResult, startStub, type StubServer } from "../helpers/stub-models.js";

const REAL_OPENAI = "sk-REAL-openai-agent-turn-0123456789abcdefABCDEF";
const REAL_ANTHROPIC = "sk-ant-REAL-anthropic-agent-turn-0123456789abcdef";
// What the agent's tool runs: where it is, and one request to a host no policy lists, sent to
// the proxy in absolute form as curl -x does (the image has no curl; fetch would tunnel it in a
// CONNECT and report a refused tunnel only as "fetch failed").
const PROBE = [
  'echo "WHERE host=$(hostname) uid=$(id -u) pidns=$(readlink /proc/self/ns/pid)"',
  `/usr/local/bin/node -e 'require("http").get({ host: "127.0.0.1", port: 3128, path: "http://unlisted.invalid/probe", headers: { host: "unlisted.invalid" } }, (r) => { let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => console.log("EGRESS", r.statusCode, b)); }).on("error", (e) => console.log("EGRESS-ERROR", e.message))'`,
].join("; ");

let h: SandboxHarness;
let name: string;
let openai: StubServer;
let anthropic: StubServer;
let relay: net.Server;
let port: number;
let token: string;
let host: OpenclawHome;

async function setRoute(body: Record<string, unknown>): Promise<string> {
  const answer = (await controlRequest(h.stateDir, "POST", "/inference/set", { sandbox: name, ...body })) as { ok: boolean; message?: string };
  if (!answer.ok) throw new Error(`inference/set: ${answer.message}`);
  // What the runtime's inference.call does after inference/set.
  return (await followRoute(h.driver, name)).gatewayConfig;
}

/**
 * The host's `openclaw` CLI against the relayed gateway, set up exactly as `<name> gateway`
 * tells the operator to (its printed export line, run by a shell): the token reaches the CLI
 * through its environment, read from the host's token file.
 */
async function hostCli(args: readonly string[]) {
  const exportLine = hostClientHint(h.stateDir, name, port).find((l) => l.trim().startsWith("export "));
  if (!exportLine) throw new Error("no export line in the gateway verb's hint");
  const r = await execa("/bin/sh", ["-c", `${exportLine.trim()} && exec "$0" "$@"`, path.join(repoRoot, "node_modules/.bin/openclaw"), ...args], {
    env: host.env,
    extendEnv: false,
    reject: false,
    all: true,
    stdin: "ignore",
    timeout: 300_000,
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout), all: String(r.all) };
}

const agentTurn = (message: string) => hostCli(["agent", "--agent", "main", "--message", message, "--json", "--timeout", "240"]);

const inside = (command: string) => h.exec(name, ["sh", "-c", command]);
/** "<pid> <start time>" of the gateway process inside (comm is cut at 15 characters). */
const GATEWAY_PROCESS = `for p in /proc/[0-9]*; do case "$(cat $p/comm 2>/dev/null)" in openclaw-gatewa*) echo "\${p#/proc/} $(cut -d' ' -f22 $p/stat)";; esac; done`;

beforeAll(async () => {
  h = await createSandboxHarness({ daemon: false, gatewayModelsFor });
  // Unknown destinations are held for an approval; nobody approves here, so they end in a 403.
  await writeFile(path.join(h.stateDir, "egress.json"), JSON.stringify({ approvalTimeoutMs: 4000 }));
  const credentials = new CredentialStore(h.stateDir);
  await credentials.add({ name: "openai", secret: REAL_OPENAI });
  await credentials.add({ name: "anthropic", secret: REAL_ANTHROPIC });
  openai = await startStub("openai", { tag: "oai", execCommand: PROBE });
  anthropic = await startStub("anthropic", { tag: "ant", toolCall: false });
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
  name = (await h.create("turn", { gateway: true })).name;
  token = (await readFile(path.join(sandboxDir(h.stateDir, name), "gateway.token"), "utf8")).trim();
  relay = await startHostRelay(h.driver.gatewaySocket(name), 0);
  port = (relay.address() as net.AddressInfo).port;
  const deadline = Date.now() + 300_000;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error(`the gateway inside never became ready:\n${(await inside("tail -n 40 /tmp/openclaw/*.log")).stdout}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  host = await createOpenclawHome();
}, 900_000);

afterAll(async () => {
  relay?.close();
  await h?.dispose();
  await host?.dispose();
  await openai?.close();
  await anthropic?.close();
});

describe("an agent turn in a gateway sandbox, from the host's openclaw CLI", () => {
  it("inference set writes the router's provider entries into the gateway's config (0600, uid 1000)", async () => {
    expect(await setRoute({ provider: "openai", model: "stub-model", baseUrl: openai.baseUrl })).toBe("updated");
    const config = await inside(`stat -c '%a %u' ${GATEWAY_CONFIG}; cat ${GATEWAY_CONFIG}`);
    const [mode, ...rest] = config.stdout.split("\n");
    expect(mode).toBe("600 1000");
    const parsed = JSON.parse(rest.join("\n")) as { agents: { defaults: { model: { primary: string } } }; models: { providers: Record<string, { apiKey: string; baseUrl: string }> } };
    expect(parsed.agents.defaults.model.primary).toBe("nemoclaw-openai/routed");
    expect(parsed.models.providers["nemoclaw-openai"]?.baseUrl).toBe("http://inference.local/v1");
    expect(rest.join("\n")).not.toContain(REAL_OPENAI);
  });

  it("the turn comes back; the model got the real key, the tool ran inside the sandbox and its unlisted request was refused by the egress layer", async () => {
    const before = openai.requests.length;
    const r = await agentTurn("look around, then try the network");
    expect(r.exitCode, r.all).toBe(0);
    const reply = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(JSON.stringify(reply)).toContain("oai-0");

    const seen = openai.requests.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const req of seen) expect(req.headers.authorization).toBe(`Bearer ${REAL_OPENAI}`);
    // The tool's output, as the gateway sent it back to the model.
    const result = seen.map((q) => lastToolResult(q.body)).find((t) => t?.includes("WHERE")) ?? "";
    const info = await h.driver.docker.getContainer(sandboxContainerName(name)).inspect();
    expect(result).toContain(`host=${info.Config.Hostname}`);
    expect(result).toContain("uid=1000");
    const hostPidNs = await readFile("/proc/self/ns/pid", "utf8").catch(() => "");
    const pidns = /pidns=(pid:\[\d+\])/.exec(result)?.[1];
    expect(pidns).toMatch(/^pid:\[\d+\]$/);
    expect(pidns).not.toBe(hostPidNs);
    // Held for an approval nobody gave, then refused, with the reason and what to do next.
    const refusal = /EGRESS 403 (\{.*\})/.exec(result)?.[1];
    expect(refusal, result).toBeDefined();
    const body = JSON.parse(refusal ?? "{}") as { error: string; host: string; reason: string };
    expect(body).toMatchObject({ error: "approval timed out", host: "unlisted.invalid" });

    // The same refusal, by its approval id, in the sandbox's egress audit log.
    const audit = (await readFile(path.join(sandboxDir(h.stateDir, name), "egress", "logs", "egress.jsonl"), "utf8"))
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { disposition: string; message: string });
    expect(audit.filter((e) => e.disposition === "Blocked" && e.message === body.reason)).toHaveLength(1);
    // The model call went through the router for this sandbox.
    const calls = (await readInferenceEvents(inferenceLogFile(h.stateDir, name))).filter((e) => e.model === "stub-model" && e.status === 200);
    expect(calls.length).toBeGreaterThanOrEqual(seen.length);
    // The sandbox's own config never held the real key.
    expect((await inside(`cat ${GATEWAY_CONFIG}`)).stdout).not.toContain(REAL_OPENAI);
    // The turn's session lives in the sandbox's gateway state; the host's OpenClaw has none.
    expect((await inside("find /sandbox/.openclaw/agents/main -type f")).stdout).toContain("/sandbox/.openclaw/agents/main/");
    const hostAgentFiles = await readdir(path.join(host.env.OPENCLAW_STATE_DIR ?? "", "agents"), { recursive: true }).catch((e: NodeJS.ErrnoException) => String(e.code));
    expect(hostAgentFiles === "ENOENT" || hostAgentFiles.length === 0, String(hostAgentFiles)).toBe(true);
  });

  it("the host's other operator commands work the same way (approvals pending), and without the token they are refused", async () => {
    const pending = await hostCli(["approvals", "pending", "--json"]);
    expect(pending.exitCode, pending.all).toBe(0);
    expect(() => JSON.parse(pending.stdout) as unknown).not.toThrow();
    const refused = await host.run(["approvals", "pending", "--json"], { timeoutMs: 300_000, env: { OPENCLAW_GATEWAY_URL: `ws://127.0.0.1:${port}`, OPENCLAW_GATEWAY_TOKEN: "0".repeat(64) } });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.all).toMatch(/unauthorized|token mismatch|auth/i);
    expect(refused.all).not.toContain(token);
  });

  it("inference set to an Anthropic-shaped provider switches the running gateway's primary: the next turn goes to the other stub, no restart", async () => {
    const gatewayBefore = (await inside(GATEWAY_PROCESS)).stdout.trim();
    expect(gatewayBefore).toMatch(/^\d+ \d+$/);
    expect(await setRoute({ provider: "anthropic", model: "stub-claude", baseUrl: anthropic.baseUrl })).toBe("updated");
    // A turn sent at once works: until OpenClaw's watcher has applied the rewritten config (its
    // debounce), its OpenAI-shaped calls are served by the previous route, not refused.
    let r = await agentTurn("and now?");
    expect(r.exitCode, r.all).toBe(0);
    let oaiBefore = openai.requests.length;
    // Once the gateway has reloaded (well within the router's grace), its turns go to the new route.
    for (let i = 0; i < 3 && !r.stdout.includes("ant-0"); i++) {
      await new Promise((res) => setTimeout(res, 500));
      oaiBefore = openai.requests.length;
      r = await agentTurn("and now?");
      expect(r.exitCode, r.all).toBe(0);
    }
    const refused = (await readInferenceEvents(inferenceLogFile(h.stateDir, name))).filter((e) => e.status === 400);
    expect(refused).toEqual([]);
    expect(JSON.stringify(JSON.parse(r.stdout))).toContain("ant-0");
    expect(openai.requests.length).toBe(oaiBefore);
    expect(anthropic.requests.at(-1)?.headers["x-api-key"]).toBe(REAL_ANTHROPIC);
    expect(anthropic.requests.at(-1)?.body.model).toBe("stub-claude");
    // The same gateway process (pid and start time): hot-applied, not restarted.
    expect((await inside(GATEWAY_PROCESS)).stdout.trim()).toBe(gatewayBefore);
  });
});
