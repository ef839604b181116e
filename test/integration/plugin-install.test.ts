import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { createOpenclawHome, installPlugin, type OpenclawHome } from "../helpers/openclaw.js";
import { repoRoot } from "../helpers/node24.js";

// The real openclaw CLI (Node 24) installs the packed plugin into a throwaway state dir and runs it.
// One install serves the whole file; the test that breaks the config runs last.
let home: OpenclawHome;
beforeAll(async () => {
  home = await createOpenclawHome();
  await installPlugin(home);
}, 300_000);
afterAll(async () => home?.dispose());

describe("nemoclaw installed into the real OpenClaw", () => {

  it("is loaded without diagnostics", async () => {
    const r = await home.run(["plugins", "inspect", "nemoclaw", "--runtime", "--json"]);
    expect(r.exitCode).toBe(0);
    const info = JSON.parse(r.stdout) as {
      plugin: { status: string; cliCommands: string[] };
      diagnostics: unknown[];
    };
    expect(info.plugin.status).toBe("loaded");
    expect(info.plugin.cliCommands).toEqual(["nemoclaw"]);
    expect(info.diagnostics).toEqual([]);
  });

  it("lists every verb with a one-line description", async () => {
    const r = await home.run(["nemoclaw", "--help"]);
    expect(r.exitCode).toBe(0);
    for (const verb of ["status", "doctor", "policy", "blueprint", "onboard", "launch", "start", "stop", "sandbox", "approvals", "approve", "deny", "inference", "skill", "eject", "uninstall", "gc"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${verb} +\\S.+`, "m"));
    }
    const policyHelp = await home.run(["nemoclaw", "policy", "--help"]);
    expect(policyHelp.stdout).toMatch(/^ {2}check +Validate a policy file/m);
    expect(policyHelp.stdout).toMatch(/^ {2}presets +\S/m);
  });

  it("a verb missing its argument says which, exits non-zero, and prints no stack trace", async () => {
    const r = await home.run(["nemoclaw", "skill", "test"]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/missing required argument "skill"/i);
    expect(r.all).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it("verifies its blueprint", async () => {
    const r = await home.run(["nemoclaw", "blueprint", "verify", "--json"]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; files: number; problems: unknown[] };
    expect(out).toMatchObject({ ok: true, problems: [] });
    expect(out.files).toBeGreaterThan(3);
  });

  it("rejects an invalid plugin config with the field and the rule, keeping the old config", async () => {
    const set = await home.run(["config", "set", "plugins.entries.nemoclaw.config", '{"dockerHost":"http://nope"}', "--strict-json"]);
    expect(set.exitCode).toBe(1);
    expect(set.all).toMatch(/plugins\.entries\.nemoclaw\.config\.dockerHost: .*unix\|tcp\|ssh/);
    const r = await home.run(["nemoclaw", "blueprint", "verify"]);
    expect(r.exitCode).toBe(0);
  });
});

describe("policy verbs through the real OpenClaw", () => {

  it("checks our base policy with presets merged in", async () => {
    const r = await home.run(["nemoclaw", "policy", "check", `${repoRoot}/policies/openclaw-sandbox.yaml`, "--preset", "npm,github", "--json"]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; presets: string[]; networkPolicies: Array<{ name: string; endpoints: string[] }> };
    expect(out.presets).toEqual(["npm", "github"]);
    expect(out.networkPolicies.map((p) => p.name)).toEqual(expect.arrayContaining(["npm", "github"]));
    expect(out.networkPolicies.flatMap((p) => p.endpoints)).toContain("registry.npmjs.org:443");
  });

  it("names file, line, column and field for each mistake, with no stack trace", async () => {
    const file = path.join(home.dir, "bad.yaml");
    await writeFile(
      file,
      ["version: 1", "filesystem_policy:", "  read_write: [/]", "network_policies:", "  x:", "    endpoints:", '      - host: "*.com"', "        port: 99999", ""].join("\n"),
    );
    const r = await home.run(["nemoclaw", "policy", "check", file]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${file}:3:16 filesystem_policy.read_write[0]`);
    expect(r.stderr).toContain(`${file}:7:15 network_policies.x.endpoints[0].host`);
    expect(r.stderr).toContain(`${file}:8:15 network_policies.x.endpoints[0].port`);
    expect(r.stderr).toMatch(/Next: /);
    expect(r.all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  it("says which presets exist when one is unknown", async () => {
    const r = await home.run(["nemoclaw", "policy", "check", `${repoRoot}/policies/openclaw-sandbox.yaml`, "--preset", "nope"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no preset named "nope"; available: .*github.*npm/);
  });

  it("lists the presets and what each allows", async () => {
    const r = await home.run(["nemoclaw", "policy", "presets"]);
    expect(r.exitCode).toBe(0);
    for (const name of ["npm", "pypi", "github", "huggingface", "slack", "discord", "telegram", "jira", "outlook", "docker", "local-inference"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name}: \\S`, "m"));
    }
    expect(r.stdout).toMatch(/allows: .*registry\.npmjs\.org:443/);
  });

  it("doctor reports the Docker engine CI started and the kernel's Landlock", async () => {
    const r = await home.run(["nemoclaw", "doctor", "--json"]);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; detail: string }> };
    const byName = Object.fromEntries(out.checks.map((c) => [c.name, c]));
    expect(byName.Docker).toMatchObject({ status: "ok" });
    expect(byName.Docker?.detail).toMatch(/Engine \d+\.\d+/);
    expect(byName.Landlock?.status).not.toBe("fail");
    expect(byName.Landlock?.detail).toMatch(/ABI [1-9]/);
    expect(byName.Blueprint).toMatchObject({ status: "ok" });
  });

  it("doctor says how to start Docker when it is unreachable", async () => {
    await home.run(["config", "set", "plugins.entries.nemoclaw.config", '{"dockerHost":"unix:///nonexistent/docker.sock"}', "--strict-json"]);
    const r = await home.run(["nemoclaw", "doctor"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}Docker: not reachable at unix:\/\/\/nonexistent\/docker\.sock/);
    expect(r.stdout).toMatch(/fix: start Docker/);
  });
});
