// The sandbox verbs end to end through the real `openclaw nemoclaw …` CLI with the packed plugin:
// what an operator types, what they see, and the exit codes scripts rely on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";

describe("sandbox verbs through the real OpenClaw", () => {
  let home: PluginHome;
  const name = uniqueName("cli");
  beforeAll(async () => {
    home = await createPluginHome();
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([name]);
  });

  it("create, status, exec with its exit code, destroy", async () => {
    const created = await home.run(["nemoclaw", "sandbox", "create", name, "--preset", "npm", "--memory", "1g", "--json"], { timeoutMs: 300_000 });
    expect(created.exitCode).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ ok: true, name, presets: ["npm"], limits: { memoryBytes: 1024 ** 3 } });

    const status = await home.run(["nemoclaw", name, "status"]);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^Sandbox ${name}: running\\n\\n`));
    expect(status.stdout).toMatch(/^ {2}Seccomp: filter \(mode 2/m);
    expect(status.stdout).toMatch(/^ {2}NoNewPrivs: 1$/m);
    expect(status.stdout).toMatch(/^ {2}CapEff: 0000000000000000 \(none\)$/m);
    expect(status.stdout).toMatch(/^ {2}CapBnd: 0000000000000000 \(none\)$/m);
    expect(status.stdout).toMatch(/^ {2}Landlock: ABI \d+, enforced/m);
    expect(status.stdout).toMatch(/^ {2}Workload: pid \d+ `sleep infinity`, uid 1000 gid 1000$/m);

    const exec = await home.run(["nemoclaw", name, "exec", "--", "sh", "-c", "echo inside as $(id -un); exit 3"]);
    expect(exec.stdout).toBe("inside as sandbox");
    expect(exec.exitCode).toBe(3);

    const list = await home.run(["nemoclaw", "sandbox", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toMatchObject({ sandboxes: [{ name, state: "running" }] });

    const refused = await home.run(["nemoclaw", name, "destroy"]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/Next: run `openclaw nemoclaw .* destroy --yes` to confirm/);

    const destroyed = await home.run(["nemoclaw", name, "destroy", "--yes"]);
    expect(destroyed.exitCode).toBe(0);
    expect(destroyed.stdout).toMatch(/^ {2}Removed: volume nemoclaw-.*-sandbox$/m);
  }, 600_000);

  it("an unknown sandbox lists the known ones; a bad name states the rule", async () => {
    const unknown = await home.run(["nemoclaw", "no-such-box", "status"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/Error: no sandbox named "no-such-box"/);
    expect(unknown.stderr).toMatch(/Next: (known sandboxes: |there are no sandboxes yet)/);
    const bad = await home.run(["nemoclaw", "Bad_Name", "status"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/RFC 1123 label/);
  }, 600_000);
});
