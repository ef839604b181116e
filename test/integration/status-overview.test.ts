// `openclaw nemoclaw status` through the real OpenClaw CLI: one screen for every sandbox, each
// layer read from inside, the policy revision moving when the policy changes, the route, the
// daemon and the disk; a stopped sandbox is shown as stopped without failing the screen.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";

describe("openclaw nemoclaw status", () => {
  let home: PluginHome;
  const running = uniqueName("ov-a");
  const stopped = uniqueName("ov-b");
  beforeAll(async () => {
    home = await createPluginHome();
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([running, stopped]);
  });

  it("shows every sandbox with its layers, policy revision, route and pending approvals; JSON for scripts", async () => {
    for (const name of [running, stopped]) {
      const created = await home.run(["nemoclaw", "sandbox", "create", name, "--json"], { timeoutMs: 300_000 });
      expect(created.exitCode, created.all).toBe(0);
    }
    expect((await home.run(["nemoclaw", stopped, "stop"])).exitCode).toBe(0);
    const set = await home.run(["nemoclaw", running, "inference", "set", "--provider", "ollama", "--model", "qwen3:8b"]);
    expect(set.exitCode, set.all).toBe(0);

    const screen = await home.run(["nemoclaw", "status"]);
    expect(screen.exitCode, screen.all).toBe(0);
    expect(screen.stdout).toMatch(/^nemoclaw: 2 sandboxes\n\n {2}Daemon: running \(pid \d+/);
    expect(screen.stdout).toMatch(/^ {2}Disk: images \d+ \(.+\), \/sandbox volumes \d+ \(.+\)$/m);
    const block = new RegExp(`^Sandbox ${running}: running\\n\\n((?: {2}.*\\n?)+)`, "m").exec(screen.stdout)?.[1] ?? "";
    expect(block).toMatch(/^ {2}Network: OK, no interface but loopback/m);
    expect(block).toMatch(/^ {2}Filesystem: OK, read-only root, Landlock ABI \d+ enforced/m);
    expect(block).toMatch(/^ {2}Process: OK, uid 1000, seccomp \(\d+ filters?\), no_new_privs, no capabilities$/m);
    expect(block).toMatch(/^ {2}Policy: revision [0-9a-f]{12}, changed /m);
    expect(block).toMatch(/^ {2}Inference: ollama \/ qwen3:8b$/m);
    expect(block).toMatch(/^ {2}Approvals pending: none$/m);
    expect(screen.stdout).toMatch(new RegExp(`^Sandbox ${stopped}: stopped\\n\\n {2}Layers: not running \\(start it: openclaw nemoclaw ${stopped} start\\)`, "m"));

    const before = JSON.parse((await home.run(["nemoclaw", "status", "--json"])).stdout);
    // Both have the default /sandbox quota: the engine accounts for them by their disk volumes only.
    expect(before.disk.volumes.count).toBeGreaterThanOrEqual(2);
    expect(before.disk.volumes.bytes).toBeGreaterThan(0);
    const mine = before.sandboxes.find((s: { name: string }) => s.name === running);
    expect(mine).toMatchObject({ state: "running", inference: { provider: "ollama", model: "qwen3:8b" }, pendingApprovals: 0, gateway: null });
    expect(mine.layers).toMatchObject({ network: { ok: true }, filesystem: { ok: true }, process: { ok: true } });

    const added = await home.run(["nemoclaw", running, "policy", "add-preset", "npm"]);
    expect(added.exitCode, added.all).toBe(0);
    const after = JSON.parse((await home.run(["nemoclaw", "status", "--json"])).stdout);
    const changed = after.sandboxes.find((s: { name: string }) => s.name === running);
    expect(changed.policy.revision).toMatch(/^[0-9a-f]{12}$/);
    expect(changed.policy.revision).not.toBe(mine.policy.revision);
  }, 900_000);
});
