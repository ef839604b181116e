// The egress verbs end to end through the real `openclaw nemoclaw …` CLI: a request from inside a
// real sandbox is held, the operator sees it in `approvals`, approves it always, and the rule is in
// the live policy; then the live policy is changed with `policy set|diff|add-preset`.
// The sandbox is shared (creating one takes minutes), but each case sets up the state it checks
// and uses its own host names, so the cases pass alone and in any order. Every `openclaw` call
// takes 10-20 s on a loaded machine: timeouts are per case and generous.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../helpers/docker-run.js";
import { startHttpUpstream, type Upstream } from "../helpers/gateway-harness.js";
import { repoRoot } from "../helpers/node24.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";

const CASE_TIMEOUT_MS = 600_000;

describe("egress verbs through the real OpenClaw", () => {
  let home: PluginHome;
  let upstream: Upstream;
  let stateDir: string;
  const name = uniqueName("egress-cli");
  beforeAll(async () => {
    upstream = await startHttpUpstream();
    home = await createPluginHome();
    stateDir = home.stateDir;
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    // The held request must outlive several slow CLI calls (list, list, approve): no 60 s default.
    await writeFile(
      path.join(stateDir, "egress.json"),
      JSON.stringify({ hostMap: { "api.cli.test": "127.0.0.1", "set.cli.test": "127.0.0.1" }, approvalTimeoutMs: 480_000 }),
    );
    const created = await home.run(["nemoclaw", "sandbox", "create", name], { timeoutMs: 300_000 });
    if (created.exitCode !== 0) throw new Error(created.all);
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([name]);
    await upstream?.close();
  });

  it("an unknown host is held, listed with who and what, approved always, and the rule is in the live policy", async () => {
    const url = `http://api.cli.test:${upstream.port}/from-inside`;
    const inside = home.run(["nemoclaw", name, "exec", "--", "node", "-e", `fetch(${JSON.stringify(url)}).then(r => r.text()).then(t => console.log("got:", t.trim()))`], { timeoutMs: 480_000 });
    type Approval = { id: string; host: string; port: number; binary: string; sandbox: string };
    let approval: Approval | undefined;
    const deadline = Date.now() + 300_000;
    while (!approval && Date.now() < deadline) {
      const listed = await home.run(["nemoclaw", "approvals", "--json"]);
      approval = (JSON.parse(listed.stdout) as { approvals: Approval[] }).approvals.find((a) => a.host === "api.cli.test");
    }
    expect(approval).toMatchObject({ sandbox: name, port: upstream.port, binary: "/usr/local/bin/node" });
    const human = await home.run(["nemoclaw", "approvals"]);
    expect(human.stdout).toContain(`${approval?.id}  [${name}] /usr/local/bin/node(`);

    const approved = await home.run(["nemoclaw", "approve", approval?.id ?? "", "--always", "--allow-ip", "127.0.0.1/32"]);
    expect(approved.exitCode, approved.all).toBe(0);
    expect(approved.stdout).toMatch(/^Allowed always/);
    const result = await inside;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^got: /);
    expect(upstream.seen.some((s) => s.url === "/from-inside")).toBe(true);

    const policy = await home.run(["nemoclaw", name, "policy", "get"]);
    expect(policy.stdout).toMatch(/host: api\.cli\.test/);
    const logs = await home.run(["nemoclaw", name, "logs", "--egress"]);
    expect(logs.stdout).toMatch(/HELD \/usr\/local\/bin\/node\(\d+\) -> api\.cli\.test/);
  }, CASE_TIMEOUT_MS);

  it("policy set refuses an invalid file with file:line:column and keeps the policy in force", async () => {
    // The policy in force, set here: the shipped base plus a rule of this case's own.
    const base = await readFile(path.join(repoRoot, "policies/openclaw-sandbox.yaml"), "utf8");
    const good = path.join(home.dir, "good.yaml");
    await writeFile(good, `${base}\n  set_case:\n    endpoints:\n      - { host: set.cli.test, port: ${upstream.port}, allowed_ips: [127.0.0.1/32] }\n    binaries: [{ path: /usr/local/bin/node }]\n`);
    const set = await home.run(["nemoclaw", name, "policy", "set", good]);
    expect(set.exitCode, set.all).toBe(0);
    const bad = path.join(home.dir, "bad.yaml");
    await writeFile(bad, "version: 1\nnetwork_policies:\n  x:\n    endpoints:\n      - { host: \"*.com\", port: 443 }\n");
    const r = await home.run(["nemoclaw", name, "policy", "set", bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${bad}:5:17 network_policies.x.endpoints[0].host`);
    const still = await home.run(["nemoclaw", name, "policy", "get"]);
    expect(still.stdout).toMatch(/host: set\.cli\.test/);
  }, CASE_TIMEOUT_MS);

  it("add-preset changes the live policy; diff compares a file with it", async () => {
    const added = await home.run(["nemoclaw", name, "policy", "add-preset", "npm"]);
    expect(added.exitCode).toBe(0);
    expect(added.stdout).toMatch(/^Policy of .* updated \(in force now\)\n\n {2}Changed: network_policies/);
    const live = await home.run(["nemoclaw", name, "policy", "get", "--full"]);
    const file = path.join(home.dir, "live.yaml");
    await writeFile(file, live.stdout.replace(/^ {2}npm:\n(?: {4,}.*\n)+/m, ""));
    const diff = await home.run(["nemoclaw", name, "policy", "diff", file]);
    expect(diff.exitCode).toBe(0);
    expect(diff.stdout).toMatch(/Removed: npm/);
    expect(diff.stdout).toMatch(/Recreate needed: no/);
  }, CASE_TIMEOUT_MS);
});
