// The credential and inference verbs through the real `openclaw nemoclaw …` CLI and the packed
// plugin: a secret goes in from the environment or stdin and never comes out (nor shows in any
// process's command line while it travels), a sandbox's route is set and read back, and a call
// from inside the sandbox through `exec` reaches the stub with the real key and shows in
// `logs --inference` (and in `logs --inference --follow` while it runs); the spawned daemon's own
// log (its stdout and stderr) never holds a key. Each openclaw call takes 10-20 s on a loaded machine: generous timeouts.
import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonLogFile } from "../../blueprint/state/paths.js";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";
import { until } from "../helpers/until.js";

const SECRET = "sk-proj-CLIsecretNEVERinARGV0123456789abcdefABCDEF";
const PIPED = "ghp_CLIpipedTOKEN0123456789abcdefghijklmnop";

/** Every host process's command line, sampled until `stop` resolves: collects those holding `needle`. */
function watchCmdlines(needle: string, stop: Promise<unknown>): Promise<string[]> {
  const found = new Set<string>();
  let done = false;
  void stop.finally(() => (done = true));
  return (async () => {
    while (!done) {
      for (const pid of await readdir("/proc").catch(() => [] as string[])) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, "latin1").catch(() => "");
        if (cmdline.includes(needle)) found.add(cmdline.replaceAll("\0", " ").slice(0, 200));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return [...found];
  })();
}

/** A chat completion from inside the sandbox, through the CLI's exec, as the workload would send it. */
const CHAT_INSIDE = `fetch("http://inference.local/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer nemoclaw-inference-local" }, body: JSON.stringify({ model: "routed", messages: [{ role: "user", content: "hi" }] }) }).then(async (r) => console.log("status", r.status, await r.text()))`;

describe("credentials and inference verbs through the real OpenClaw", () => {
  /** The openai credential with SECRET (idempotent: add replaces), so each case stands alone. */
  const storeOpenai = async (): Promise<void> => {
    const r = await home.run(["nemoclaw", "credentials", "add", "openai", "--from-env", "NEMO_TEST_KEY"], { env: { NEMO_TEST_KEY: SECRET } });
    if (r.exitCode !== 0) throw new Error(r.all);
  };
  /** The daemon's own log (daemon.log: what the runtime printed to stdout and stderr) holds no key, whole or in part. */
  const expectNoKeyInDaemonLog = async (): Promise<void> => {
    const log = await readFile(daemonLogFile(home.stateDir), "utf8");
    expect(log).toMatch(/Z nemoclaw daemon \S+ \(pid \d+\) for /); // the spawned daemon's log, not an empty stand-in
    for (const key of [SECRET, PIPED]) expect(log).not.toContain(key.slice(8, 32));
  };
  let home: PluginHome;
  let stub: StubServer;
  let failing: StubServer;
  const name = uniqueName("inf-cli");
  beforeAll(async () => {
    stub = await startStub("openai", { tag: "cli" });
    failing = await startStub("openai", { failWith: 401 });
    home = await createPluginHome();
    const created = await home.run(["nemoclaw", "sandbox", "create", name], { timeoutMs: 300_000 });
    if (created.exitCode !== 0) throw new Error(created.all);
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([name]);
    await stub?.close();
    await failing?.close();
  });

  it("credentials add --from-env: stored, never printed, never in any process's argv", async () => {
    const run = home.run(["nemoclaw", "credentials", "add", "openai", "--from-env", "NEMO_TEST_KEY"], { env: { NEMO_TEST_KEY: SECRET } });
    const seen = await watchCmdlines(SECRET, run);
    const r = await run;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Credential openai stored\n\n {2}Kind: openai\n {2}Fingerprint: [0-9a-f]{8}\n/);
    expect(r.all).not.toContain(SECRET);
    expect(seen).toEqual([]);
  }, 600_000);

  it("credentials add --stdin with a binding; list shows names, kinds, bindings and fingerprints, never values", async () => {
    const add = await home.run(["nemoclaw", "credentials", "add", "gh", "--kind", "github", "--stdin", "--bind", "api.github.com:443:header=authorization"], { input: `${PIPED}\n` });
    expect(add.exitCode).toBe(0);
    expect(add.stdout).toContain("Sent to: api.github.com:443 (header authorization)");
    const list = await home.run(["nemoclaw", "credentials", "list", "--json"]);
    expect(list.exitCode).toBe(0);
    expect(list.all).not.toContain(PIPED);
    const { credentials } = JSON.parse(list.stdout) as { credentials: Array<{ name: string; kind: string; fingerprint: string; bindings: unknown[] }> };
    expect(credentials.find((c) => c.name === "gh")).toMatchObject({ kind: "github", fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/), bindings: [{ in: "header", host: "api.github.com", port: 443, name: "authorization" }] });
    const human = await home.run(["nemoclaw", "credentials", "list"]);
    expect(human.stdout).toMatch(/^Credentials\n\n {2}\S+: /);
    expect(human.all).not.toContain(PIPED);
  }, 600_000);

  it("bad input says what to do next: no secret source, an unset variable, a malformed --bind", async () => {
    const none = await home.run(["nemoclaw", "credentials", "add", "openai"]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/^Error: give the secret with exactly one of --from-env VAR or --stdin\n\n {2}Next: /);
    const unset = await home.run(["nemoclaw", "credentials", "add", "openai", "--from-env", "NOT_SET_ANYWHERE"]);
    expect(unset.exitCode).toBe(1);
    expect(unset.stderr).toContain("NOT_SET_ANYWHERE is not set");
    const bind = await home.run(["nemoclaw", "credentials", "add", "x", "--kind", "generic", "--stdin", "--bind", "example.com"], { input: "s3cret-value" });
    expect(bind.exitCode).toBe(1);
    expect(bind.stderr).toMatch(/--bind example\.com: not host:port/);
  }, 600_000);

  it("inference set / get: the route is stored and read back; a bad provider names the kinds", async () => {
    await storeOpenai();
    const set = await home.run(["nemoclaw", name, "inference", "set", "--provider", "openai", "--model", "stub-model", "--base-url", stub.baseUrl]);
    expect(set.exitCode).toBe(0);
    expect(set.stdout).toMatch(/^Inference route of .* set \(in force on its next request\)\n\n {2}Provider: openai\n {2}Model: stub-model\n {2}Base URL: http:\/\/127\.0\.0\.1:/);
    expect(set.stdout).toMatch(/Credential: openai \(stored, fingerprint [0-9a-f]{8}\)/);
    const get = await home.run(["nemoclaw", name, "inference", "get", "--json"]);
    expect(get.exitCode).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ sandbox: name, current: { route: { provider: "openai", model: "stub-model", baseUrl: stub.baseUrl }, primary: "nemoclaw-openai/routed" } });
    const bad = await home.run(["nemoclaw", name, "inference", "set", "--provider", "bogus", "--model", "m"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/provider: the provider is one of nvidia, openai, anthropic/);
    expect(bad.stderr).toContain("Next: ");
    await expectNoKeyInDaemonLog();
  }, 600_000);

  it("inference providers lists every kind", async () => {
    const r = await home.run(["nemoclaw", "inference", "providers"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Inference providers\n\n/);
    for (const kind of ["nvidia", "openai", "anthropic", "gemini", "ollama", "vllm", "llamacpp", "lmstudio", "openai-compatible", "anthropic-compatible"]) expect(r.stdout).toContain(`  ${kind}: `);
  }, 600_000);

  it("a call from inside (exec) reaches the stub with the real key and shows in logs --inference", async () => {
    await storeOpenai();
    const set = await home.run(["nemoclaw", name, "inference", "set", "--provider", "openai", "--model", "stub-model", "--base-url", stub.baseUrl]);
    expect(set.exitCode).toBe(0);
    const inside = await home.run(["nemoclaw", name, "exec", "--", "node", "-e", CHAT_INSIDE], { timeoutMs: 120_000 });
    expect(inside.exitCode).toBe(0);
    expect(inside.stdout).toMatch(/^status 200 .*cli says hi/m);
    expect(stub.requests.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
    const logs = await home.run(["nemoclaw", name, "logs", "--inference"]);
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toMatch(/OK 200 \/v1\/chat\/completions -> openai\/stub-model/);
    const json = await home.run(["nemoclaw", name, "logs", "--inference", "--json"]);
    expect(JSON.parse(json.stdout.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ sandbox: name, provider: "openai", status: 200 });
    expect(logs.all + json.all).not.toContain(SECRET);
    await expectNoKeyInDaemonLog();
  }, 600_000);

  it("logs --inference --follow prints the log, then a call made while it runs, once; a rejected key is not in the daemon's log", async () => {
    await storeOpenai();
    const ok = await home.run(["nemoclaw", name, "inference", "set", "--provider", "openai", "--model", "stub-model", "--base-url", stub.baseUrl]);
    expect(ok.exitCode).toBe(0);
    const first = await home.run(["nemoclaw", name, "exec", "--", "node", "-e", CHAT_INSIDE], { timeoutMs: 120_000 });
    expect(first.stdout).toMatch(/^status 200 /m);
    const follow = home.start(["nemoclaw", name, "logs", "--inference", "--follow"]);
    let out = "";
    follow.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    try {
      await until("the log so far from --follow", 120_000, async () => (/OK 200 \/v1\/chat\/completions/.test(out) ? true : undefined));
      await new Promise((r) => setTimeout(r, 3000)); // the rest of the first poll's lines, and one more empty poll
      const printed = out.split("\n").filter((l) => l !== "").length;
      // The upstream rejects the key and echoes it in its error: the error path is where a key would leak into a log.
      const bad = await home.run(["nemoclaw", name, "inference", "set", "--provider", "openai", "--model", "stub-model", "--base-url", failing.baseUrl]);
      expect(bad.exitCode).toBe(0);
      const second = await home.run(["nemoclaw", name, "exec", "--", "node", "-e", CHAT_INSIDE], { timeoutMs: 120_000 });
      expect(second.stdout).toMatch(/^status 401 /m);
      expect(failing.requests.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
      await until("the new call from --follow", 60_000, async () => (/UPSTREAM_ERROR 401 \/v1\/chat\/completions/.test(out) ? true : undefined));
      const lines = out.split("\n").filter((l) => l !== "");
      expect(lines.length).toBe(printed + 1);
      expect(lines.at(-1)).toMatch(/ UPSTREAM_ERROR 401 \/v1\/chat\/completions -> openai\/stub-model /);
      expect(out).not.toContain(SECRET);
    } finally {
      follow.kill();
      await follow;
    }
    await expectNoKeyInDaemonLog();
  }, 600_000);
});
