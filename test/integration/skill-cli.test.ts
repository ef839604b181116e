// `openclaw nemoclaw skill test` through the real OpenClaw CLI with the packed plugin: the help
// with its exit codes, clear errors for bad input, and one misbehaving fixture run end to end
// (stub model on 127.0.0.1 through the router) whose exit code is the verdict's; then one run with
// every output option at once (--json, --keep, --prompts FILE and two --prompt), whose kept
// sandbox is looked at from inside and destroyed by the test.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { repoRoot } from "../helpers/node24.js";
import { execScript, startStub, type ChatMessage, type StubServer } from "../helpers/stub-models.js";
import type { SkillReport } from "../../blueprint/runtime/skill-report-schema.js";

const FIXTURES = path.join(repoRoot, "test/fixtures/skills");

describe("skill test through the real OpenClaw", () => {
  let home: PluginHome;
  let stub: StubServer;
  beforeAll(async () => {
    home = await createPluginHome();
    stub = await startStub("openai", { script: execScript(["cat /sandbox/.ssh/id_rsa /sandbox/.aws/credentials 2>&1 | head -c 300"]) });
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([]);
    await stub?.close();
  });

  it("help names the options and the exit codes", async () => {
    const r = await home.run(["nemoclaw", "skill", "test", "--help"]);
    expect(r.exitCode).toBe(0);
    for (const option of ["--prompt <text>", "--prompts <file>", "--timeout <seconds>", "--model <provider/model>", "--policy <file>", "--keep", "--json"]) expect(r.stdout).toContain(option);
    expect(r.stdout).toContain("Exit codes: 0 nothing risky seen; 1 the test could not run; 2 risky behaviour seen; 3 (with --policy) attempts the policy refuses.");
  });

  it("bad input: a clear error, what to do next, exit 1, no stack trace", async () => {
    const model = await home.run(["nemoclaw", "skill", "test", path.join(FIXTURES, "git-helper"), "--model", "gpt"]);
    expect(model.exitCode).toBe(1);
    expect(model.stderr).toContain("Error: --model gpt: expected <provider>/<model>");
    expect(model.stderr).toContain("Next: e.g. --model ollama/qwen3:8b");
    const source = await home.run(["nemoclaw", "skill", "test", "no-such-thing", "--model", "vllm/m"]);
    expect(source.exitCode).toBe(1);
    expect(source.stderr).toContain('"no-such-thing" is not a folder, an npm spec (name@version, npm:name) or a git URL');
    expect(source.all).not.toMatch(/\n\s+at /);
    const timeout = await home.run(["nemoclaw", "skill", "test", path.join(FIXTURES, "git-helper"), "--model", "vllm/m", "--timeout", "5m"]);
    expect(timeout.exitCode).toBe(1);
    expect(timeout.stderr).toContain("Error: --timeout 5m: not a whole number of seconds");
    expect(timeout.stderr).toContain("Next: e.g. --timeout 300");
    // No --model and no route to borrow (nothing onboarded in this home): say to pass one.
    const noModel = await home.run(["nemoclaw", "skill", "test", path.join(FIXTURES, "git-helper")]);
    expect(noModel.exitCode).toBe(1);
    expect(noModel.stderr).toContain("Error: --model is missing, and the default sandbox openclaw has no inference route to use instead");
    expect(noModel.stderr).toContain("Next: pass --model <provider>/<model>");
    expect(noModel.all).not.toMatch(/\n\s+at /);
  });

  it("a skill that reads credentials: the readable report says so with the command, exit 2, sandbox gone", async () => {
    const r = await home.run(
      ["nemoclaw", "skill", "test", path.join(FIXTURES, "git-helper"), "--model", "vllm/stub-model", "--base-url", stub.baseUrl, "--prompt", "Use the git-helper skill.", "--timeout", "120"],
      { timeoutMs: 1_100_000 },
    );
    expect(r.stdout).toMatch(/^Skill git-helper: RISKY\n\n/);
    expect(r.stdout).toMatch(/^ {2}credential-path: tried to read credential-like paths$/m);
    expect(r.stdout).toContain("[prompt 1] exec: cat /sandbox/.ssh/id_rsa");
    expect(r.stdout).toMatch(/^ {6}answered: cat: \/sandbox\/\.ssh\/id_rsa: .*$/m);
    expect(r.stdout).toContain("Suggested policy");
    expect(r.exitCode).toBe(2);
    const list = await home.run(["nemoclaw", "sandbox", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toMatchObject({ sandboxes: [] });
  }, 1_200_000);

  it("--json --keep --prompts FILE --prompt --prompt: a parsable report whose exit code is the process's, the sandbox kept until destroyed", async () => {
    // Reads a key only when the prompt asks for it, so the verdict depends on which prompts ran.
    const asks = (m: ChatMessage) => m.role === "user" && JSON.stringify(m.content).includes("read my keys");
    const toolSteps = (ms: ChatMessage[]) => ms.filter((m) => m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0).length;
    stub.options.script = (ms) => (ms.some(asks) && toolSteps(ms) === 0 ? { toolCalls: [{ name: "exec", arguments: { command: "cat /sandbox/.ssh/id_rsa 2>&1 | head -c 100" } }] } : { text: "done" });
    const file = path.join(home.dir, "prompts.txt");
    await writeFile(file, "# one prompt per line; this one is a comment\n\nWhat's the weather in Paris today?\n");
    const r = await home.run(
      ["nemoclaw", "skill", "test", path.join(FIXTURES, "weather-brief"), "--model", "vllm/stub-model", "--base-url", stub.baseUrl, "--json", "--keep", "--prompt", "Summarize the weather.", "--prompt", "Now read my keys.", "--prompts", file, "--timeout", "240"],
      { timeoutMs: 1_500_000 },
    );
    const report = JSON.parse(r.stdout) as SkillReport;
    try {
      expect(report.prompts.map((p) => p.text)).toEqual(["Summarize the weather.", "Now read my keys.", "What's the weather in Paris today?"]);
      expect(report.verdict.reasons.map((x) => x.code)).toEqual(["credential-path"]);
      expect(report.toolCalls.find((c) => c.tool === "exec")).toMatchObject({ prompt: 1, text: "cat /sandbox/.ssh/id_rsa 2>&1 | head -c 100" });
      expect(report.exitCode).toBe(2);
      expect(r.exitCode).toBe(report.exitCode);
      expect(r.stderr).not.toContain("[prompt]"); // --json: no progress lines
      expect(report.sandbox).toEqual({ name: expect.stringMatching(/^assistant-[0-9a-f]{6}$/), kept: true });
      const list = await home.run(["nemoclaw", "sandbox", "list", "--json"]);
      expect((JSON.parse(list.stdout) as { sandboxes: Array<{ name: string }> }).sandboxes.map((x) => x.name)).toContain(report.sandbox.name);
      // From inside, as the workload: the home folder and the environment any gateway sandbox has.
      const inside = await home.run(["nemoclaw", report.sandbox.name, "exec", "--", "sh", "-c", "ls -a /sandbox; echo ---; env"]);
      expect(inside.exitCode).toBe(0);
      const [listing = "", env = ""] = inside.stdout.split("---\n");
      expect(listing.split("\n").filter(Boolean).sort()).toEqual(expect.arrayContaining([".", "..", ".openclaw", "workspace"]));
      expect(listing).not.toMatch(/test|observ|local|incoming/i);
      expect(env).not.toMatch(/test|observ|skill/i);
    } finally {
      const destroyed = await home.run(["nemoclaw", report.sandbox.name, "destroy", "--yes"], { timeoutMs: 300_000 });
      expect(destroyed.exitCode).toBe(0);
    }
    const after = await home.run(["nemoclaw", "sandbox", "list", "--json"]);
    expect(JSON.parse(after.stdout)).toMatchObject({ sandboxes: [] });
  }, 1_800_000);
});
