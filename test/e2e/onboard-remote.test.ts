// `openclaw nemoclaw onboard --docker-host …` onto another engine: a second dockerd the test
// starts on its own socket and data root, in remote mode (NEMOCLAW_ENGINE=remote: nothing may
// depend on a bind mount from this host). The real OpenClaw CLI and packed plugin, a stub model
// server on 127.0.0.1. Onboarding there ends with the gateway answering through the engine relay
// and a model call from inside reaching the stub; later verbs, given no flag, find the sandbox on
// that engine because onboarding recorded it as nemoclaw's dockerHost.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { BASE_IMAGE, dockerClient } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startOwnDockerd, type OwnDockerd } from "../helpers/own-dockerd.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const KEY = "sk-REAL-remote-0123456789abcdefABCDEF";
let home: PluginHome;
let own: OwnDockerd;
let stub: StubServer;
const name = uniqueName("onbr");

beforeAll(async () => {
  own = await startOwnDockerd();
  await own.copyImages([BASE_IMAGE], dockerClient());
  home = await createPluginHome();
  home.env.NEMOCLAW_ENGINE = "remote";
  stub = await startStub("openai", { tag: "stub" });
}, 900_000);

afterAll(async () => {
  await home?.teardown([name]);
  await stub?.close();
  await own?.dispose();
});

describe("onboard --docker-host onto another engine (remote mode)", () => {
  it("onboards there: the gateway answers through the engine relay, a model call from inside reaches the provider", async () => {
    const r = await home.run(
      ["nemoclaw", "onboard", "--non-interactive", "--json", "--name", name, "--docker-host", own.host, "--provider", "vllm", "--base-url", stub.baseUrl, "--model", "stub-model", "--api-key-env", "STUB_KEY"],
      { env: { NEMOCLAW_PORT: "0", STUB_KEY: KEY }, timeoutMs: 900_000 },
    );
    expect(r.exitCode, r.all).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; steps: Array<{ id: string; status: string; detail: string }> };
    expect(report.ok, r.stdout).toBe(true);
    expect(report.steps.find((s) => s.id === "health")?.detail).toContain("stub-model");
    expect(report.steps.find((s) => s.id === "host-config")?.detail).toContain(`dockerHost ${own.host}`);

    // On the other engine, not the shared one; nothing bind-mounted from this host.
    const info = await own.docker.getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    expect(await dockerClient().getContainer(sandboxContainerName(name)).inspect().then(() => "found", (e: { statusCode?: number }) => e.statusCode)).toBe(404);
    const config = await readFile(path.join(home.env.OPENCLAW_STATE_DIR ?? "", "openclaw.json"), "utf8");
    expect(config).toContain(own.host);
  }, 1_200_000);

  it("later verbs find it there with no flag: exec reaches the model through the router; the key is nowhere inside", async () => {
    const before = stub.requests.length;
    const call = await home.run([
      "nemoclaw", name, "exec", "--", "node", "-e",
      'fetch("http://inference.local/v1/chat/completions",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({model:"routed",messages:[{role:"user",content:"hi"}]})}).then(async r=>console.log(r.status,await r.text()))',
    ]);
    expect(call.stdout, call.all).toContain("200");
    expect(call.stdout).toContain("stub says hi");
    expect(stub.requests[before]?.headers.authorization).toBe(`Bearer ${KEY}`);
    const search = await home.run(["nemoclaw", name, "exec", "--", "sh", "-c", `env; grep -rl -- '${KEY}' /sandbox /tmp /run/nemoclaw 2>/dev/null | sed 's/^/FOUND /'; echo searched`]);
    expect(search.stdout).toContain("searched");
    expect(search.stdout).not.toContain(KEY);
    expect(search.stdout).not.toContain("FOUND ");
    const list = JSON.parse((await home.run(["nemoclaw", "sandbox", "list", "--json"])).stdout) as { sandboxes: Array<{ name: string; state: string }> };
    expect(list.sandboxes.find((s) => s.name === name)?.state).toBe("running");
  }, 600_000);
});
