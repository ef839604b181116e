// `npm run bench`: one agent turn (text only) from the host's `openclaw agent` CLI, against a
// gateway sandbox through the relay (its model through the router, real key added there) vs
// against an OpenClaw gateway run on the host with the same stub model configured directly.
// Interleaved rounds in the same run; prints medians of the CLI's wall time and of the turn's
// own duration as the gateway reports it (meta.durationMs: no CLI start-up), and their ratios.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { test } from "vitest";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { startHostRelay } from "../../blueprint/runtime/gateway-relay.js";
import { followRoute, gatewayModelsFor } from "../../blueprint/runtime/gateway-models.js";
import { sandboxDir } from "../../blueprint/state/paths.js";
import { createSandboxHarness } from "../helpers/docker-sandbox.js";
import { repoRoot } from "../helpers/node24.js";
import { createOpenclawHome } from "../helpers/openclaw.js";
import { startStub } from "../helpers/stub-models.js";
import { freePort } from "../helpers/free-port.js";

const ROUNDS = 5;
const TOKEN = "be".repeat(32);

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** A loopback port nothing listens on now (the host gateway's). */
async function ready(port: number, what: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error(`${what} never became ready`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test("agent turn: sandboxed gateway through the relay vs a host gateway", async () => {
  const stub = await startStub("openai", { tag: "bench", toolCall: false });
  const h = await createSandboxHarness({ daemon: false, gatewayModelsFor });
  const home = await createOpenclawHome();
  let hostGateway: ReturnType<typeof execa> | undefined;
  let relay: net.Server | undefined;
  try {
    await new CredentialStore(h.stateDir).add({ name: "openai", secret: "sk-bench-real-0123456789abcdef" });
    h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
    const name = (await h.create("bench-turn", { gateway: true })).name;
    const answer = (await controlRequest(h.stateDir, "POST", "/inference/set", { sandbox: name, provider: "openai", model: "stub-model", baseUrl: stub.baseUrl })) as { ok: boolean };
    if (!answer.ok) throw new Error("inference/set failed");
    await followRoute(h.driver, name);
    relay = await startHostRelay(h.driver.gatewaySocket(name), 0);
    const relayPort = (relay.address() as net.AddressInfo).port;
    const sandboxToken = (await readFile(path.join(sandboxDir(h.stateDir, name), "gateway.token"), "utf8")).trim();

    // The baseline: the same OpenClaw on the host, the stub configured directly.
    const stateDir = home.env.OPENCLAW_STATE_DIR ?? "";
    await mkdir(stateDir, { recursive: true });
    const hostPort = await freePort();
    await writeFile(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({
        gateway: { mode: "local", bind: "loopback", port: hostPort, auth: { mode: "token", token: TOKEN } },
        models: { mode: "merge", providers: { stub: { baseUrl: stub.baseUrl, apiKey: "sk-bench", api: "openai-completions", models: [{ id: "stub-model", name: "stub", contextWindow: 128_000, maxTokens: 8192 }] } } },
        agents: { defaults: { model: { primary: "stub/stub-model" }, workspace: path.join(home.dir, "workspace") } },
      }),
    );
    const bin = path.join(repoRoot, "node_modules/.bin/openclaw");
    hostGateway = execa(bin, ["gateway", "run", "--bind", "loopback", "--port", String(hostPort)], { env: home.env, extendEnv: false, reject: false, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await Promise.all([ready(relayPort, "the sandboxed gateway"), ready(hostPort, "the host gateway")]);

    const turn = async (port: number, token: string) => {
      const started = performance.now();
      const r = await execa(bin, ["agent", "--agent", "main", "--message", "hi", "--json", "--timeout", "240"], {
        env: { ...home.env, OPENCLAW_GATEWAY_URL: `ws://127.0.0.1:${port}`, OPENCLAW_GATEWAY_TOKEN: token },
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        timeout: 300_000,
      });
      const wall = performance.now() - started;
      if (r.exitCode !== 0 || !String(r.stdout).includes("bench-0")) throw new Error(`turn failed (exit ${r.exitCode}): ${String(r.stdout).slice(0, 400)} ${String(r.stderr).slice(0, 400)}`);
      const reply = JSON.parse(String(r.stdout)) as { result?: { meta?: { durationMs?: number } } };
      return { wall, turn: reply.result?.meta?.durationMs ?? Number.NaN };
    };
    // One warm-up each (first turn bootstraps the agent's workspace and session).
    await turn(relayPort, sandboxToken);
    await turn(hostPort, TOKEN);
    const sandboxed: Array<{ wall: number; turn: number }> = [];
    const onHost: Array<{ wall: number; turn: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      sandboxed.push(await turn(relayPort, sandboxToken));
      onHost.push(await turn(hostPort, TOKEN));
    }
    const m = (xs: Array<{ wall: number; turn: number }>, k: "wall" | "turn") => median(xs.map((x) => x[k]));
    console.log(
      [
        "",
        "Agent turn from the host's `openclaw agent` (text-only stub model)",
        "",
        `  Sandboxed (relay, router): CLI ${m(sandboxed, "wall").toFixed(0)} ms, turn ${m(sandboxed, "turn").toFixed(0)} ms (medians of ${ROUNDS})`,
        `  Host gateway (direct):     CLI ${m(onHost, "wall").toFixed(0)} ms, turn ${m(onHost, "turn").toFixed(0)} ms`,
        `  Ratio: CLI ${(m(sandboxed, "wall") / m(onHost, "wall")).toFixed(2)}x, turn ${(m(sandboxed, "turn") / m(onHost, "turn")).toFixed(2)}x`,
        "",
      ].join("\n"),
    );
  } finally {
    hostGateway?.kill("SIGTERM");
    await hostGateway?.catch(() => undefined);
    relay?.close();
    await h.dispose();
    await home.dispose();
    await stub.close();
  }
}, 1_800_000);
