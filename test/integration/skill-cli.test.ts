// `openclaw nemoclaw skill test` through the real OpenClaw CLI with the packed plugin: the help
// with its exit codes, clear errors for bad input, and one misbehaving fixture run end to end
// (stub model on 127.0.0.1 through the router) whose exit code is the verdict's.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { repoRoot } from "../helpers/node24.js";
import { execScript, startStub, type StubServer } from "../helpers/stub-models.js";

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
  });

  it("a skill that reads credentials: the readable report says so with the command, exit 2, sandbox gone", async () => {
    const r = await home.run(
      ["nemoclaw", "skill", "test", path.join(FIXTURES, "git-helper"), "--model", "vllm/stub-model", "--base-url", stub.baseUrl, "--prompt", "Use the git-helper skill.", "--timeout", "120"],
      { timeoutMs: 1_100_000 },
    );
    expect(r.stdout).toMatch(/^Skill git-helper: RISKY\n\n/);
    expect(r.stdout).toMatch(/^ {2}credential-path: tried to read credential-like paths$/m);
    expect(r.stdout).toContain("[prompt 1] exec: cat /sandbox/.ssh/id_rsa");
    expect(r.stdout).toContain("Suggested policy");
    expect(r.exitCode).toBe(2);
    const list = await home.run(["nemoclaw", "sandbox", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toMatchObject({ sandboxes: [] });
  }, 1_200_000);
});
