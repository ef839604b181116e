// Named sandboxes through the real driver on the real dockerd: create, list, status, exec,
// stop/start with /sandbox kept (container restarted, and container removed then recreated
// from state), several at once, destroy; and the bad-input answers.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeError } from "../../blueprint/state/runtime-error.js";
import { sandboxContainerName, sandboxVolumeName } from "../../blueprint/sandbox/container-spec.js";
import { sandboxDiskVolumeName } from "../../blueprint/sandbox/disk.js";
import { SandboxDriver } from "../../blueprint/sandbox/driver.js";
import { sandboxPolicyFile } from "../../blueprint/state/paths.js";
import { BASE_IMAGE, dockerClient } from "../helpers/docker-images.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { repoRoot } from "../helpers/node24.js";

const docker = dockerClient();
let h: SandboxHarness;

beforeAll(async () => {
  h = await createSandboxHarness();
}, 900_000);
afterAll(async () => h?.dispose());

async function failure(promise: Promise<unknown>): Promise<RuntimeError> {
  const e = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(RuntimeError);
  return e as RuntimeError;
}

describe("one sandbox, start to end", () => {
  let name: string;
  beforeAll(async () => {
    name = (await h.create("life", { presets: ["npm"], limits: { memoryBytes: 1024 ** 3 } })).name;
  }, 120_000);

  it("is listed as running with its state, policy and volume", async () => {
    const list = await h.driver.list();
    expect(list).toContainEqual(expect.objectContaining({ name, state: "running", presets: ["npm"], openclaw: expect.any(String) }));
    const policy = await readFile(sandboxPolicyFile(h.stateDir, name), "utf8");
    expect(policy).toMatch(/^network_policies:/m);
    expect(policy).toContain("registry.npmjs.org");
    expect((await docker.getVolume(sandboxVolumeName(name)).inspect()).Name).toBe(sandboxVolumeName(name));
  });

  it("status reports what is in force, read from inside", async () => {
    const status = await h.driver.status(name);
    expect(status.state).toBe("running");
    expect(status.limits.memoryBytes).toBe(1024 ** 3);
    const inside = status.inside!;
    expect(inside.workload).toMatchObject({ argv: ["sleep", "infinity"], uid: 1000, gid: 1000, seccomp: 2, noNewPrivs: 1 });
    expect(inside.workload?.capEff).toBe("0000000000000000");
    expect(inside.workload?.capBnd).toBe("0000000000000000");
    expect(inside.supervisor).toMatchObject({ uid: 0, argv: ["/usr/local/bin/node", "/opt/nemoclaw/supervisor/supervisor.js"] });
    expect(inside.landlock.abi).toBeGreaterThanOrEqual(1);
    expect(inside.landlock.write).toBe("EACCES");
    expect(inside.proxySocket).toMatchObject({ present: true, mode: "600", uid: 0 });
    expect(inside.environ.supervisor).toBe("unreadable");
    const mounts = Object.fromEntries(inside.mounts.map((m) => [m.target, m.options]));
    expect(mounts).toMatchObject({ "/": "ro", "/sandbox": "rw", "/tmp": "rw", "/opt/nemoclaw": "ro", "/run/nemoclaw": "ro", "/opt/openclaw/node_modules": "ro" });
  });

  it("exec runs as the sandbox user with the sandbox's environment and passes the exit code through", async () => {
    const r = await h.exec(name, ["sh", "-c", 'id -u; echo "$NEMOCLAW_SANDBOX $HOME $HTTPS_PROXY $NODE_USE_ENV_PROXY"; env | grep -c NEMOCLAW_SUPERVISOR; exit 42']);
    expect(r.exitCode).toBe(42);
    expect(r.stdout).toBe("1000\n1 /sandbox http://127.0.0.1:3128 1\n0\n");
    expect((await h.exec(name, ["true"])).exitCode).toBe(0);
    expect((await h.exec(name, ["false"])).exitCode).toBe(1);
    expect((await h.exec(name, ["/nonexistent"])).exitCode).toBe(127);
  });

  it("exec feeds piped input to the command", async () => {
    const r = await h.exec(name, ["sh", "-c", "cat > /sandbox/from-stdin && wc -c < /sandbox/from-stdin"], "twelve bytes");
    expect(r).toMatchObject({ exitCode: 0, stdout: "12\n" });
  });

  it("runs the host's OpenClaw, mounted read-only", async () => {
    const r = await h.exec(name, ["node", "/opt/openclaw/node_modules/openclaw/openclaw.mjs", "--version"]);
    const pkg = JSON.parse(await readFile(path.join(repoRoot, "node_modules/openclaw/package.json"), "utf8")) as { version: string };
    expect(r.stdout).toContain(pkg.version);
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it("keeps /sandbox across stop/start, a container restart, and a container recreated from state", async () => {
    expect((await h.exec(name, ["sh", "-c", "echo kept > /sandbox/marker"])).exitCode).toBe(0);

    expect(await h.driver.stop(name)).toEqual({ wasRunning: true });
    expect(await h.driver.containerState(name)).toBe("stopped");
    expect((await h.driver.list()).find((s) => s.name === name)?.state).toBe("stopped");
    expect(await h.driver.start(name)).toEqual({ recreated: false, alreadyRunning: false });
    expect((await h.exec(name, ["cat", "/sandbox/marker"])).stdout).toBe("kept\n");

    // What a dockerd restart does to a container with no restart policy: it stops.
    await docker.getContainer(sandboxContainerName(name)).restart({ t: 1 });
    expect(await h.driver.start(name)).toEqual({ recreated: false, alreadyRunning: true });
    expect((await h.exec(name, ["cat", "/sandbox/marker"])).stdout).toBe("kept\n");

    // The container is gone (pruned, or a host rebuilt): start recreates it from the state dir.
    await docker.getContainer(sandboxContainerName(name)).remove({ force: true });
    expect(await h.driver.containerState(name)).toBe("missing");
    expect(await h.driver.start(name)).toEqual({ recreated: true, alreadyRunning: false });
    expect((await h.exec(name, ["cat", "/sandbox/marker"])).stdout).toBe("kept\n");
    expect((await h.driver.status(name)).inside?.workload?.capBnd).toBe("0000000000000000");
  }, 120_000);

  it("applies a network-only policy change, and refuses a static one without touching anything", async () => {
    const file = sandboxPolicyFile(h.stateDir, name);
    const before = await readFile(file, "utf8");
    const base = path.join(repoRoot, "policies/openclaw-sandbox.yaml");
    expect(await h.driver.applyPolicy(name, base, ["github"])).toEqual({ changed: ["network_policies"] });
    const withGithub = await readFile(file, "utf8");
    expect(withGithub).toContain("github.com");
    expect(withGithub).not.toBe(before);

    const staticChange = path.join(h.stateDir, "static-change.yaml");
    await writeFile(staticChange, (await readFile(base, "utf8")).replace("compatibility: best_effort", "compatibility: hard_requirement"));
    const e = await failure(h.driver.applyPolicy(name, staticChange, []));
    expect(e.code).toBe("recreate-needed");
    expect(e.message).toMatch(/changes landlock of sandbox .*: recreate needed/);
    expect(await readFile(file, "utf8")).toBe(withGithub);

    // The same change made by hand to the stored file: start refuses rather than half-applying it.
    await writeFile(file, withGithub.replace("compatibility: best_effort", "compatibility: hard_requirement"));
    await h.driver.stop(name);
    const s = await failure(h.driver.start(name));
    expect(s.code).toBe("recreate-needed");
    expect(s.message).toMatch(/static part .* changed \(landlock\).*recreate needed/);
    expect(await h.driver.containerState(name)).toBe("stopped");
    await writeFile(file, withGithub);
    await h.driver.start(name);
  }, 120_000);

  it("destroy removes container, volume, the quota's disk and state", async () => {
    const r = await h.driver.destroy(name);
    expect(r.removed).toEqual([
      `container ${sandboxContainerName(name)}`,
      `volume ${sandboxVolumeName(name)}`,
      `volume ${sandboxDiskVolumeName(name)}`,
      expect.stringMatching(/^state /),
    ]);
    expect(await h.driver.containerState(name)).toBe("missing");
    await expect(docker.getVolume(sandboxVolumeName(name)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(sandboxDiskVolumeName(name)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await h.driver.list()).map((s) => s.name)).not.toContain(name);
  });
});

describe("several sandboxes", () => {
  it("coexist, each with its own volume, state and egress socket", async () => {
    const [a, b] = await Promise.all([h.create("multi-a"), h.create("multi-b")]);
    await h.exec(a.name, ["sh", "-c", "echo a > /sandbox/who"]);
    await h.exec(b.name, ["sh", "-c", "echo b > /sandbox/who"]);
    expect((await h.exec(a.name, ["cat", "/sandbox/who"])).stdout).toBe("a\n");
    expect((await h.exec(b.name, ["cat", "/sandbox/who"])).stdout).toBe("b\n");
    expect(h.daemon?.served()).toEqual(expect.arrayContaining([a.name, b.name]));
    await h.driver.stop(a.name);
    expect(await h.driver.containerState(b.name)).toBe("running");
    await h.driver.destroy(a.name);
    expect((await h.exec(b.name, ["cat", "/sandbox/who"])).stdout).toBe("b\n");
    await h.driver.destroy(b.name);
  }, 120_000);
});

describe("bad input", () => {
  it("an unknown sandbox: the known ones are listed", async () => {
    const known = await h.create("known");
    const e = await failure(h.driver.status("no-such-sandbox"));
    expect(e.code).toBe("unknown-sandbox");
    expect(e.message).toBe('no sandbox named "no-such-sandbox"');
    expect(e.hint).toContain(known.name);
    await h.driver.destroy(known.name);
  }, 60_000);

  it("a name that is not an RFC 1123 label: the rule", async () => {
    for (const bad of ["Upper", "under_score", "-lead", "trail-", "a".repeat(64)]) {
      const e = await failure(h.driver.create({ name: bad, baseImage: BASE_IMAGE }));
      expect(e.code).toBe("bad-name");
      expect(e.hint).toMatch(/RFC 1123 label: 1-63 characters, lowercase letters, digits and '-'/);
    }
  });

  it("Docker unreachable: how to start it", async () => {
    const driver = new SandboxDriver({ docker: new Docker({ socketPath: "/nonexistent/docker.sock" }), stateDir: h.stateDir, dockerHost: "unix:///nonexistent/docker.sock" });
    const e = await failure(driver.create({ name: "unreachable", baseImage: BASE_IMAGE }));
    expect(e.code).toBe("docker-unreachable");
    expect(e.message).toMatch(/^Docker is not reachable at unix:\/\/\/nonexistent\/docker\.sock/);
    expect(e.hint).toMatch(/start Docker/);
  });

  it("a policy that does not validate: file:line:column, and nothing is created", async () => {
    const file = path.join(h.stateDir, "bad-policy.yaml");
    await writeFile(file, "version: 1\nfilesystem_policy:\n  read_write: [/]\n");
    const e = await failure(h.create("badpolicy", { policyFile: file }));
    expect(e.code).toBe("policy-invalid");
    expect(e.details.join("\n")).toContain(`${file}:3:16 filesystem_policy.read_write[0]`);
    expect((await h.driver.list()).filter((s) => s.name.startsWith("badpolicy"))).toEqual([]);
  });

  it("a sandbox that cannot start leaves nothing behind and shows its last output", async () => {
    const e = await failure(h.create("nostart", { command: ["/does/not/exist"] }));
    expect(e.code).toBe("start-failed");
    expect(e.details.join("\n")).toMatch(/cannot exec \/does\/not\/exist/);
    const leftovers = (await docker.listContainers({ all: true })).filter((c) => c.Names.some((n) => n.startsWith("/nemoclaw-nostart")));
    expect(leftovers).toEqual([]);
    // Its /sandbox quota disk (made while the container was) is gone too.
    const volumes = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name).filter((n) => n.startsWith("nemoclaw-nostart"));
    expect(volumes).toEqual([]);
    expect((await h.driver.list()).filter((s) => s.name.startsWith("nostart"))).toEqual([]);
  }, 60_000);
});
