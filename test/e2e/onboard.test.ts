// `openclaw nemoclaw onboard --non-interactive` end to end: the real OpenClaw CLI with the packed
// plugin, real dockerd, a real gateway sandbox, and a stub "vLLM" (OpenAI-compatible) server on
// the host's 127.0.0.1 as the provider. Checks what onboarding promises: the sandbox exists and
// its gateway answers, the key is stored on the host and never inside, the route is set (a model
// call from inside reaches the stub with the real key), re-running changes nothing, a second
// sandbox leaves the first alone, a failure part-way is resumed, bad flags read as errors.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { dockerClient } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const KEY_A = "sk-REAL-onboard-a-0123456789abcdefABCDEF";
const KEY_B = "sk-REAL-onboard-b-fedcba9876543210ZYXWVU";

type Report = { ok: boolean; name: string; steps: Array<{ id: string; status: string; detail: string }>; error?: { message: string; hint?: string } };

let home: PluginHome;
let stub: StubServer;
const first = uniqueName("onba");
const second = uniqueName("onbb");

function parseReport(stdout: string): Report {
  // The whole of stdout is one JSON document.
  return JSON.parse(stdout) as Report;
}

async function onboard(args: readonly string[], env: Record<string, string> = {}) {
  // Port 0: the relay takes any free port (this machine may run other gateways on 18789).
  const r = await home.run(["nemoclaw", "onboard", "--non-interactive", "--json", ...args], { env: { NEMOCLAW_PORT: "0", ...env }, timeoutMs: 900_000 });
  return { ...r, report: parseReport(r.stdout) };
}

const status = (r: Report, id: string) => r.steps.find((s) => s.id === id)?.status;
/** The relay's URL, as the start step reports it. */
const relayUrl = (r: Report) => /http:\/\/127\.0\.0\.1:\d+/.exec(r.steps.find((s) => s.id === "start")?.detail ?? "")?.[0];
const startedAt = async (name: string) => (await dockerClient().getContainer(sandboxContainerName(name)).inspect()).State.StartedAt;
let firstRelay: string | undefined;

beforeAll(async () => {
  home = await createPluginHome();
  stub = await startStub("openai", { tag: "stub" });
}, 900_000);

afterAll(async () => {
  await home?.teardown([first, second]);
  await stub?.close();
});

describe("openclaw nemoclaw onboard --non-interactive", () => {
  // Each onboard starts a sandboxed gateway and waits for it to answer: minutes on a loaded machine.
  it("onboards a gateway sandbox: key on the host only, route set, gateway and router answer", async () => {
    const r = await onboard(["--name", first, "--provider", "vllm", "--base-url", stub.baseUrl, "--model", "stub-model", "--api-key-env", "STUB_KEY"], { STUB_KEY: KEY_A });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.report.ok).toBe(true);
    expect(r.report.steps.map((s) => s.id)).toEqual(["preflight", "provider", "credential", "policy", "sandbox", "route", "host-config", "start", "carry-over", "health"]);
    expect(status(r.report, "credential")).toBe("done");
    expect(status(r.report, "sandbox")).toBe("done");
    expect(r.report.steps.find((s) => s.id === "health")?.detail).toContain("stub-model");
    firstRelay = relayUrl(r.report);
    expect(firstRelay).toBeDefined();

    const list = JSON.parse((await home.run(["nemoclaw", "sandbox", "list", "--json"])).stdout) as { sandboxes: Array<{ name: string; state: string }> };
    expect(list.sandboxes.find((s) => s.name === first)?.state).toBe("running");
    const creds = JSON.parse((await home.run(["nemoclaw", "credentials", "list", "--json"])).stdout) as { credentials: Array<{ name: string; fingerprint: string }> };
    expect(creds.credentials.map((c) => c.name)).toContain(`${first}-vllm`);
    const route = JSON.parse((await home.run(["nemoclaw", first, "inference", "get", "--json"])).stdout) as { current: { route: { provider: string; model: string; credential?: string } } };
    expect(route.current.route).toMatchObject({ provider: "vllm", model: "stub-model", credential: `${first}-vllm` });

    // A model call from inside, through the launcher: the stub sees the real key, the sandbox never had it.
    const before = stub.requests.length;
    const call = await home.run([
      "nemoclaw", first, "exec", "--", "node", "-e",
      'fetch("http://inference.local/v1/chat/completions",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({model:"routed",messages:[{role:"user",content:"hi"}]})}).then(async r=>console.log(r.status,await r.text()))',
    ]);
    expect(call.stdout).toContain("200");
    expect(call.stdout).toContain("stub says hi");
    expect(stub.requests[before]?.headers.authorization).toBe(`Bearer ${KEY_A}`);
    const search = await home.run(["nemoclaw", first, "exec", "--", "sh", "-c", `env; grep -rl -- '${KEY_A}' /sandbox /tmp /run/nemoclaw 2>/dev/null | sed 's/^/FOUND /'; echo searched`]);
    expect(search.stdout).toContain("searched");
    // The environment would show the key itself; a file holding it shows as FOUND <file>.
    expect(search.stdout).not.toContain(KEY_A);
    expect(search.stdout).not.toContain("FOUND ");
  }, 1_200_000);

  it("re-running changes nothing (and needs neither the flags nor the key variable again)", async () => {
    const r = await onboard(["--name", first]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.report.ok).toBe(true);
    for (const s of r.report.steps) expect(["unchanged", "ok", "skipped"], `${s.id}: ${s.status} (${s.detail})`).toContain(s.status);
    expect(status(r.report, "sandbox")).toBe("unchanged");
    expect(status(r.report, "credential")).toBe("unchanged");
    expect(status(r.report, "route")).toBe("unchanged");
  }, 1_200_000);

  it("a failure after the credential step (an invalid --policy) is resumed by the next run; the first sandbox is not disturbed", async () => {
    const credsBefore = (await home.run(["nemoclaw", "credentials", "list", "--json"])).stdout;
    const fingerprintOf = (json: string, name: string) => (JSON.parse(json) as { credentials: Array<{ name: string; fingerprint: string }> }).credentials.find((c) => c.name === name)?.fingerprint;
    const firstFingerprint = fingerprintOf(credsBefore, `${first}-vllm`);
    const firstStartedAt = await startedAt(first);
    const bad = path.join(home.dir, "bad-policy.yaml");
    await writeFile(bad, "version: 1\nnetwork_policies: 5\n");

    const failed = await onboard(["--name", second, "--provider", "vllm", "--base-url", stub.baseUrl, "--model", "stub-model", "--api-key-env", "STUB_KEY", "--policy", bad], { STUB_KEY: KEY_B });
    expect(failed.exitCode).toBe(1);
    expect(failed.report.ok).toBe(false);
    expect(failed.report.error?.message).toMatch(/^Policy and presets: /);
    expect(failed.report.error?.message).toContain("bad-policy.yaml");
    expect(status(failed.report, "credential")).toBe("done");
    expect(failed.all).not.toMatch(/\n\s+at .+:\d+:\d+/);
    const afterFail = JSON.parse((await home.run(["nemoclaw", "sandbox", "list", "--json"])).stdout) as { sandboxes: Array<{ name: string }> };
    expect(afterFail.sandboxes.map((s) => s.name)).not.toContain(second);

    // The next run, without --policy and without the key variable: resumes from the recorded answers.
    const resumed = await onboard(["--name", second]);
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(status(resumed.report, "provider")).toBe("unchanged");
    expect(status(resumed.report, "credential")).toBe("unchanged");
    expect(status(resumed.report, "sandbox")).toBe("done");
    expect(status(resumed.report, "health")).toBe("ok");

    // The first sandbox: still running, same key, same route.
    const list = JSON.parse((await home.run(["nemoclaw", "sandbox", "list", "--json"])).stdout) as { sandboxes: Array<{ name: string; state: string }> };
    expect(list.sandboxes.find((s) => s.name === first)?.state).toBe("running");
    // Not restarted, and its relay still answers for its gateway.
    expect(await startedAt(first)).toBe(firstStartedAt);
    expect(await fetch(`${firstRelay}/readyz`).then((res) => res.status, (e: Error) => e.message)).toBe(200);
    expect(relayUrl(resumed.report)).not.toBe(firstRelay);
    const credsAfter = (await home.run(["nemoclaw", "credentials", "list", "--json"])).stdout;
    expect(fingerprintOf(credsAfter, `${first}-vllm`)).toBe(firstFingerprint);
    expect(fingerprintOf(credsAfter, `${second}-vllm`)).not.toBe(firstFingerprint);
    const again = await onboard(["--name", first]);
    expect(again.report.steps.filter((s) => s.status === "done")).toEqual([]);
  }, 1_200_000);

  it("bad flags: a clear error naming the flag and what to do, never a stack trace; --json stays one JSON document", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--provider", "Not A Kind!"], /--provider "Not A Kind!": a provider kind/],
      [["--base-url", "ftp://x"], /--base-url "ftp:\/\/x": an http:\/\/ or https:\/\/ URL/],
      [["--name", "Bad_Name"], /--name "Bad_Name"/],
      [["--provider", "nosuch", "--model", "m"], /unknown provider "nosuch"/],
    ];
    for (const [args, message] of cases) {
      const text = await home.run(["nemoclaw", "onboard", "--non-interactive", "--name", uniqueName("onbx"), ...args]);
      expect(text.exitCode, text.all).toBe(1);
      expect(text.stderr).toMatch(message);
      expect(text.stderr).toContain("Next:");
      expect(text.all).not.toMatch(/\n\s+at .+:\d+:\d+/);
      const json = await home.run(["nemoclaw", "onboard", "--non-interactive", "--json", ...args]);
      expect(json.exitCode).toBe(1);
      const doc = JSON.parse(json.stdout) as { ok: boolean; error: { message: string } };
      expect(doc.ok).toBe(false);
      expect(doc.error.message).toMatch(message);
    }
  }, 900_000);
});
