// The supervisor (the built dist/blueprint/supervisor/supervisor.js, a real process) starting a
// failed workload again. Run on the host, as a container would run it, with a launcher that drops
// to uid 1000 like landlock-exec does and a workload that fails a given number of times first:
// OpenClaw's gateway failing its own start-up under load is the case this is for.
import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostForwarder } from "../helpers/egress-forwarder.js";
import { freePort } from "../helpers/free-port.js";
import { repoRoot } from "../helpers/node24.js";

const SUPERVISOR = path.join(repoRoot, "dist/blueprint/supervisor/supervisor.js");
let dir: string;

// Receives `--ready-fd 3 <counter> <fail-times>`; closes fd 3 (as landlock-exec does once it
// exec'd the workload), then, as uid 1000: fails until its counter reaches <fail-times>, then
// stays up until SIGTERM.
const LAUNCHER = `#!/bin/sh
exec 3>&-
exec setpriv --reuid=1000 --regid=1000 --clear-groups sh -c '
  n=$(cat "$1" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$1"
  if [ "$n" -le "$2" ]; then echo "run $n: failing"; exit 7; fi
  echo "run $n: up"; trap "echo run $n: stopping; exit 0" TERM
  while :; do sleep 0.1; done' sh "$3" "$4"
`;

type Run = { code: Promise<number | null>; output: () => string; kill: (s: NodeJS.Signals) => void };

async function supervise(failTimes: number, restart?: { attempts: number; windowMs: number }): Promise<Run & { counter: string }> {
  const counter = path.join(dir, `counter-${Math.random().toString(16).slice(2)}`);
  const config = {
    launcher: [path.join(dir, "launcher.sh"), counter, String(failTimes)],
    env: { PATH: "/usr/bin:/bin" },
    forwarder: { host: "127.0.0.1", port: await freePort(), socket: path.join(dir, "proxy.sock"), program: await hostForwarder() },
    caller: { uid: 1000, gid: 1000 },
    secret: "ab".repeat(32),
    ...(restart ? { restart } : {}),
  };
  const child = spawn(process.execPath, [SUPERVISOR], { env: { NEMOCLAW_SUPERVISOR: JSON.stringify(config) }, cwd: dir });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const code = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return { counter, code, output: () => out, kill: (s) => child.kill(s) };
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-restart-"));
  await chmod(dir, 0o777);
  await writeFile(path.join(dir, "launcher.sh"), LAUNCHER, { mode: 0o755 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)("the supervisor restarts a failed workload (gateway sandboxes)", () => {
  it("a workload that fails twice is started again after 1 s and 2 s, then stays up; SIGTERM ends it without a restart", async () => {
    const run = await supervise(2, { attempts: 5, windowMs: 600_000 });
    await until(() => run.output().includes("run 3: up"), "the third run");
    const out = run.output();
    expect(out).toContain("run 1: failing");
    expect(out).toContain("workload exited (code 7)");
    expect(out).toContain("starting the workload again in 1 s (failure 1)");
    expect(out).toContain("starting the workload again in 2 s (failure 2)");
    run.kill("SIGTERM");
    expect(await run.code).toBe(0);
    expect(run.output()).toContain("run 3: stopping");
    expect(run.output()).not.toContain("failure 3");
    expect((await readFile(run.counter, "utf8")).trim()).toBe("3");
  }, 120_000);

  it("gives up once the restarts within the window are used: the sandbox ends with the workload's code", async () => {
    const run = await supervise(100, { attempts: 1, windowMs: 600_000 });
    expect(await run.code).toBe(7);
    expect(run.output()).toContain("starting the workload again in 1 s (failure 1)");
    expect(run.output()).toMatch(/giving up: the workload failed 2 times, 2 within 10 min/);
    expect((await readFile(run.counter, "utf8")).trim()).toBe("2");
  }, 120_000);

  it("without a restart policy (every sandbox but a gateway's) the first exit ends it", async () => {
    const run = await supervise(1);
    expect(await run.code).toBe(7);
    expect(run.output()).not.toContain("starting the workload again");
    expect((await readFile(run.counter, "utf8")).trim()).toBe("1");
  }, 120_000);

  it("a stop signal during the back-off ends it at once, without another start", async () => {
    const run = await supervise(100, { attempts: 5, windowMs: 600_000 });
    await until(() => run.output().includes("failure 2"), "the second failure");
    run.kill("SIGTERM");
    expect(await run.code).toBe(7);
    expect((await readFile(run.counter, "utf8")).trim()).toBe("2");
  }, 120_000);
});
