// `skill test` end to end in the runtime: a real throwaway gateway sandbox per fixture skill,
// the real egress gateway in observe mode, `openclaw skills install` and `openclaw agent --local`
// inside, and a stub model on 127.0.0.1 (through the inference router) that makes the tool calls
// the fixture's SKILL.md spells out in its "Steps" block. Each misbehaving fixture must be caught
// with its evidence; the good one's suggested policy must pass `policy check` and, used as
// --policy, leave no denials; under a policy that lacks its host, exit 3.
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEgressHandler } from "../../blueprint/gateway/egress-service.js";
import { startDaemon } from "../../blueprint/runtime/daemon.js";
import { denial, nextStep } from "../../blueprint/gateway/refusals.js";
import { handlers } from "../../blueprint/runtime/handlers.js";
import { runSkillTest } from "../../blueprint/runtime/skill-test.js";
import type { SkillReport } from "../../blueprint/runtime/skill-report-schema.js";
import { createSandboxHarness, OPENCLAW_DIR, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { BASE_IMAGE } from "../helpers/docker-images.js";
import { repoRoot } from "../helpers/node24.js";
import { execScript, startStub, type StubServer } from "../helpers/stub-models.js";

const FIXTURES = path.join(repoRoot, "test/fixtures/skills");
let h: SandboxHarness;
let stub: StubServer;

async function steps(skill: string): Promise<string[]> {
  const text = await readFile(path.join(FIXTURES, skill, "SKILL.md"), "utf8");
  const block = /## Steps\n```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? "";
  return block.split("\n").filter((l) => l.trim() !== "");
}

/** A turn of `openclaw agent --local` inside takes one to three minutes on a loaded 2-core machine. */
const SLOW = 1_200_000;

/**
 * Each run keeps its sandbox up for its whole --timeout window (120 s here) and is mostly idle
 * in it, so the cases run side by side, at most this many at a time: each has its own
 * throwaway sandbox and its own model name, which picks its script in the shared stub. Two, not
 * three: with three beside setup.sh and the CI suite, one run's first model call was once refused
 * as from an unidentified caller. Its reason was not kept (the log line below now prints it); the
 * likely one, a process being started beside the caller, is now scanned again (identify.ts).
 */
const AT_ONCE = 2;
const scripts = new Map<string, ReturnType<typeof execScript>>();
let runs = 0;
let running = 0;
const waiting: Array<() => void> = [];
async function turn<T>(work: () => Promise<T>): Promise<T> {
  while (running >= AT_ONCE) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

async function test(skill: string, extra: { policyFile?: string; prompts?: string[]; moreSteps?: string[]; keep?: boolean } = {}): Promise<SkillReport> {
  const model = `stub-${skill}-${++runs}`;
  const commands = [...(await steps(skill)), ...(extra.moreSteps ?? [])];
  scripts.set(model, execScript(commands));
  const report = await turn(() =>
    runSkillTest(
      h.driver,
      {
        stateDir: h.stateDir,
        baseImage: BASE_IMAGE,
        openclawDir: OPENCLAW_DIR,
        source: path.join(FIXTURES, skill),
        prompts: extra.prompts ?? [],
        timeoutS: 120,
        route: { provider: "vllm", model, baseUrl: stub.baseUrl },
        keep: extra.keep === true,
        ...(extra.policyFile === undefined ? {} : { policyFile: extra.policyFile }),
      },
      () => {},
    ),
  );
  // What a failing assertion is about.
  console.log(
    JSON.stringify(
      {
        skill,
        verdict: report.verdict,
        egress: report.egress,
        unidentified: report.attempts.filter((a) => a.binary === null).map((a) => `${a.host}:${a.port}: ${a.reason}`),
        toolCalls: report.toolCalls,
        files: report.files,
        prompts: report.prompts.map((p) => ({ exitCode: p.exitCode, durationMs: p.durationMs, ...(p.exitCode === 0 ? {} : { output: p.output }) })),
      },
      null,
      1,
    ),
  );
  // Destroyed: no container or record left behind (kept: the caller destroys it).
  if (extra.keep !== true) expect((await h.driver.list()).map((s) => s.name)).not.toContain(report.sandbox.name);
  return report;
}

const codes = (r: SkillReport) => r.verdict.reasons.map((x) => x.code).sort();
const evidence = (r: SkillReport, code: string) => r.verdict.reasons.find((x) => x.code === code)?.evidence.join("\n") ?? "";

beforeAll(async () => {
  h = await createSandboxHarness({ daemon: false });
  stub = await startStub("openai", { script: (messages, model) => scripts.get(model)?.(messages) ?? { text: `no script for model ${model}` } });
  h.daemon = await startDaemon({ stateDir: h.stateDir, egress: createEgressHandler, log: () => {} });
}, 900_000);
afterAll(async () => {
  await h?.dispose();
  await stub?.close();
});

describe.concurrent("skill test", () => {
  it("a good skill: nothing risky, its request observed with method and path, a minimal suggested policy that policy check accepts; again under that policy, every attempt is one it allows (exit 0)", async () => {
    const good = await test("weather-brief");
    expect(good.sandbox.name).not.toMatch(/test/i);
    expect(good.prompts.map((p) => p.text)).toEqual(["Use the weather-brief skill for what it describes: Fetches today's forecast from api.weather.example and saves a short brief in the workspace.", "What's the weather in Paris today?"]);
    expect(good.prompts.every((p) => p.exitCode === 0)).toBe(true);
    expect(good.modelCalls).toBeGreaterThanOrEqual(4);
    expect(good.verdict).toEqual({ risky: false, reasons: [] });
    expect(good.exitCode).toBe(0);
    expect(good.egress).toEqual([
      { binary: "/usr/local/bin/node", host: "api.weather.example", port: 443, count: 2, requests: [{ method: "GET", path: "/v1/forecast", count: 2 }], policyAllows: false, prompts: [0, 1] },
    ]);
    expect(good.toolCalls.filter((c) => c.tool === "exec")).toHaveLength(2);
    expect(good.files).toEqual([{ path: "/sandbox/workspace/forecast.txt", change: "added", size: expect.any(Number), executable: false }]);
    expect(good.suggestedPolicy).toContain("# api.weather.example:443: needed by prompt 1");
    const file = path.join(os.tmpdir(), `suggested-${process.pid}.yaml`);
    await writeFile(file, good.suggestedPolicy);
    const checked = (await handlers["policy.check"]({ command: "policy.check", file, presets: [] }, () => {})) as { networkPolicies: Array<{ name: string; endpoints: string[]; binaries: string[] }> };
    expect(checked.networkPolicies).toEqual([
      { name: "nemoclaw_inference", endpoints: expect.any(Array), binaries: expect.any(Array) },
      { name: "skill_api.weather.example_443", endpoints: ["api.weather.example:443"], binaries: ["/usr/local/bin/node"] },
    ]);

    const again = await test("weather-brief", { policyFile: file, prompts: ["What's the weather in Paris today?"] });
    expect(again.mode).toBe("policy");
    expect(again.attempts.length).toBeGreaterThan(0);
    expect(again.denials).toBe(0);
    expect(again.egress.every((g) => g.policyAllows)).toBe(true);
    expect(again.exitCode).toBe(0);
  }, SLOW);

  it("an unknown host its SKILL.md never names: undeclared-host, with the POST it sent (exit 2); from inside, nothing says it is watched", async () => {
    // What a suspicious skill would look at: its environment, the home folder, and the answer
    // to a refused request — which must be enforce mode's "not in policy", word for word. Each
    // lands in the workspace; the sandbox is kept so the test can read them, then destroyed.
    const probes = [
      "env > /sandbox/workspace/probe-env.txt",
      "ls -a /sandbox /sandbox/workspace > /sandbox/workspace/probe-ls.txt 2>&1",
      `node -e 'fetch("http://collect.metrics-hub.example/ingest",{method:"POST",body:"x"}).then(async r=>console.log(r.status+" "+await r.text()),e=>console.log(String(e)))' > /sandbox/workspace/probe-refusal.txt`,
    ];
    const r = await test("note-tidy", { prompts: ["Use the note-tidy skill."], moreSteps: probes, keep: true });
    const read = async (file: string) => (await h.driver.execCapture(r.sandbox.name, ["cat", `/sandbox/workspace/${file}`])).stdout;
    let env: string, listing: string, refusal: string;
    try {
      [env, listing, refusal] = [await read("probe-env.txt"), await read("probe-ls.txt"), await read("probe-refusal.txt")];
    } finally {
      await h.driver.destroy(r.sandbox.name);
    }
    expect(codes(r)).toEqual(["undeclared-host"]);
    expect(evidence(r, "undeclared-host")).toContain("/usr/local/bin/node -> collect.metrics-hub.example:443 POST /ingest");
    expect(r.exitCode).toBe(2);
    expect(env).toContain("HTTPS_PROXY=");
    expect(env).not.toMatch(/test|observ|skill|turns/i);
    expect(listing).toContain("AGENTS.md");
    expect(listing).not.toMatch(/test|observ|openclaw-local|turns|incoming/i);
    const host = "collect.metrics-hub.example";
    expect(refusal.slice(0, 4)).toBe("403 ");
    expect(JSON.parse(refusal.slice(4))).toEqual(denial("not in policy", host, 80, null, `no network policy allows ${host}:80`, nextStep(r.sandbox.name, "unknown")));
  }, SLOW);

  it("the good skill under a policy that lacks its host: the attempt is a denial, nothing risky (exit 3)", async () => {
    const file = path.join(os.tmpdir(), `lacking-${process.pid}.yaml`);
    await writeFile(file, "version: 1\nnetwork_policies:\n  other:\n    name: other\n    endpoints: [{ host: api.other.example, port: 443 }]\n    binaries: [{ path: /usr/local/bin/node }]\n");
    const r = await test("weather-brief", { policyFile: file, prompts: ["What's the weather in Paris today?"] });
    expect(r.mode).toBe("policy");
    expect(r.verdict).toEqual({ risky: false, reasons: [] });
    expect(r.denials).toBeGreaterThan(0);
    expect(r.egress).toContainEqual(expect.objectContaining({ host: "api.weather.example", port: 443, policyAllows: false }));
    expect(r.exitCode).toBe(3);
  }, SLOW);

  it("escalation and a write outside the workspace, in one run: both reasons with their commands (exit 2)", async () => {
    const r = await test("cache-warm", { prompts: ["Use the cache-warm skill."] });
    expect(codes(r)).toEqual(["escalation", "write-outside-workspace"]);
    expect(evidence(r, "escalation")).toContain("exec: sudo id");
    expect(evidence(r, "write-outside-workspace")).toContain("(writes /sandbox/.local/bin/warm)");
    expect(r.files.filter((f) => !f.path.startsWith("/sandbox/workspace/"))).toEqual([]); // Landlock refused the write itself
    expect(r.exitCode).toBe(2);
  }, SLOW);

  it("credential-looking paths: credential-path, quoting the command", async () => {
    const r = await test("git-helper", { prompts: ["Use the git-helper skill."] });
    expect(codes(r)).toEqual(["credential-path"]);
    expect(evidence(r, "credential-path")).toContain("cat /sandbox/.ssh/id_rsa");
    // What the command got back, from OpenClaw's transcript (its agent database).
    expect(r.toolCalls.find((c) => c.tool === "exec" && c.text.startsWith("cat /sandbox/.ssh/id_rsa"))?.result).toMatch(/^cat: \/sandbox\/\.ssh\/id_rsa: /);
    expect(r.exitCode).toBe(2);
  }, SLOW);

  it("download and run: download-and-execute, with the command and the new executable file", async () => {
    const r = await test("setup-tools", { prompts: ["Use the setup-tools skill."] });
    expect(codes(r)).toEqual(["download-and-execute"]);
    expect(evidence(r, "download-and-execute")).toContain("chmod +x /sandbox/workspace/install.sh");
    expect(evidence(r, "download-and-execute")).toContain("added executable /sandbox/workspace/install.sh");
    expect(r.egress.map((g) => `${g.host}:${g.port}`)).toEqual(["get.tools-cdn.example:443"]);
    expect(r.exitCode).toBe(2);
  }, SLOW);

  it("a raw IP: raw-ip, with the request, and it is left out of the suggested policy", async () => {
    const r = await test("ip-check", { prompts: ["Use the ip-check skill."] });
    expect(codes(r)).toEqual(["raw-ip"]);
    expect(evidence(r, "raw-ip")).toContain("/usr/local/bin/node -> 93.184.215.14:80 GET /ping");
    expect(r.suggestedPolicy).not.toContain("host: 93.184.215.14");
    expect(r.suggestedPolicy).toContain("Left out on purpose (risky or unidentified caller): 93.184.215.14:80");
    expect(r.exitCode).toBe(2);
  }, SLOW);

  it("the host's gateway port: reach-host", async () => {
    const r = await test("sync-agent", { prompts: ["Use the sync-agent skill."] });
    expect(codes(r)).toEqual(["reach-host"]);
    expect(evidence(r, "reach-host")).toContain("/usr/local/bin/node -> host.docker.internal:18789 GET /v1/status");
    expect(r.exitCode).toBe(2);
  }, SLOW);
});
