// The operator's own `openclaw` CLI, unchanged, against the onboarded sandbox's gateway: the
// operator's config has a local gateway (its port, token auth with a token), as OpenClaw's own
// onboarding leaves it. After `openclaw nemoclaw onboard`, a plain `openclaw agent --message …`
// — no OPENCLAW_GATEWAY_URL, no OPENCLAW_GATEWAY_TOKEN — reaches the relay on that port with that
// token, and the turn runs in the sandbox (the stub on the host's loopback answers it through the
// router, with the real key, which the operator's config does not even have).
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import JSON5 from "json5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDir } from "../../blueprint/state/paths.js";
import { uniqueName } from "../helpers/docker-run.js";
import { freePort } from "../helpers/free-port.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const KEY = "sk-REAL-host-cli-0123456789abcdefABCDEF";

let home: PluginHome;
let stub: StubServer;
let port: number;
const token = `operator-${randomBytes(20).toString("hex")}`;
const name = uniqueName("hcli");

beforeAll(async () => {
  home = await createPluginHome();
  stub = await startStub("openai", { tag: "hostcli", toolCall: false });
  port = await freePort();
  const file = path.join(home.env.OPENCLAW_STATE_DIR ?? "", "openclaw.json");
  const config = JSON5.parse(await readFile(file, "utf8").catch(() => "{}")) as Record<string, unknown>;
  config.gateway = { ...(config.gateway as object | undefined), mode: "local", port, auth: { mode: "token", token } };
  await writeFile(file, JSON.stringify(config, null, 2));
}, 900_000);

afterAll(async () => {
  await home?.teardown([name]);
  await stub?.close();
});

describe("the host's openclaw CLI against the onboarded sandbox's gateway", () => {
  it("works unchanged: the relay is on the operator's gateway port and checks the operator's token", async () => {
    const onboard = await home.run(
      ["nemoclaw", "onboard", "--non-interactive", "--json", "--name", name, "--provider", "vllm", "--base-url", stub.baseUrl, "--model", "stub-model", "--api-key-env", "STUB_KEY"],
      { env: { STUB_KEY: KEY }, timeoutMs: 900_000 },
    );
    expect(onboard.exitCode, onboard.all).toBe(0);
    const report = JSON.parse(onboard.stdout) as { facts: Record<string, string> };
    expect(report.facts["Gateway token"]).toMatch(/gateway\.auth\.token/);
    expect((await readFile(path.join(sandboxDir(home.stateDir, name), "gateway.token"), "utf8")).trim()).toBe(token);
    expect(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)).toBe(200);

    // Nothing exported: the CLI takes the URL from gateway.port and the token from gateway.auth.token.
    expect(Object.keys(home.env).filter((k) => k.startsWith("OPENCLAW_GATEWAY"))).toEqual([]);
    const before = stub.requests.length;
    const turn = await home.run(["agent", "--agent", "main", "--message", "say hi", "--json", "--timeout", "240"], { timeoutMs: 400_000 });
    expect(turn.exitCode, turn.all).toBe(0);
    expect(turn.stdout).toContain("hostcli");
    const seen = stub.requests.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    for (const req of seen) expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
  }, 1_500_000);

  it("a key the provider rejects fails onboarding's health step with the provider's words and the router's hint", async () => {
    // The router answers /v1/models itself: only a real model call notices.
    stub.options.failWith = 401;
    try {
      const r = await home.run(["nemoclaw", "onboard", "--non-interactive", "--json", "--name", name], { timeoutMs: 900_000 });
      expect(r.exitCode, r.all).toBe(1);
      const report = JSON.parse(r.stdout) as { ok: boolean; steps: Array<{ id: string; status: string }>; error?: { message: string; hint?: string } };
      expect(report.ok).toBe(false);
      expect(report.error?.message).toMatch(/^Health check: inference from inside .* failed: POST http:\/\/inference\.local\/v1\/chat\/completions answered 401: 401 from vLLM: Incorrect API key provided/);
      expect(report.error?.message).toContain(`the stored key was rejected; run \`openclaw nemoclaw credentials add ${name}-vllm`);
      expect(r.all).not.toContain(KEY);
    } finally {
      delete stub.options.failWith;
    }
  }, 1_200_000);
});
