// The operator's OpenClaw state carried into the sandbox at onboard, end to end: the real
// OpenClaw CLI with the packed plugin, real dockerd, a real gateway sandbox, a stub "vLLM" on the
// host's loopback. The operator's config has an agent, a Telegram channel with a bot token, a
// skill with a secret in its env, a model provider with a key; the workspace has AGENTS.md, a
// skill and a .env. After onboard: OpenClaw inside knows the agent (its own CLI, run through the
// launcher), the workspace files are in /sandbox owned by the sandbox user, the token is a host
// credential and the sandbox holds only its placeholder (searched through the launcher), and the
// operator's config is unchanged but for the launch switch. Re-running changes nothing.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import JSON5 from "json5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startStub, type StubServer } from "../helpers/stub-models.js";

const ROUTE_KEY = "sk-REAL-carry-route-0123456789abcdefABCDEF";
const TELEGRAM = "7123456789:AAreal-carry-telegram-token-0123456789ab";
const PROVIDER_KEY = "sk-REAL-carry-operator-provider-key-0123456789";
const SKILL_ENV = "real-carry-skill-env-secret-0123456789";
const SECRETS = [ROUTE_KEY, TELEGRAM, PROVIDER_KEY, SKILL_ENV];
const ENTRY = "/opt/openclaw/node_modules/openclaw/openclaw.mjs";

type Report = { ok: boolean; steps: Array<{ id: string; status: string; detail: string }>; facts: Record<string, string>; error?: { message: string } };

let home: PluginHome;
let stub: StubServer;
let configFile: string;
let before: Record<string, unknown>;
const name = uniqueName("carry");

async function onboard(args: readonly string[], env: Record<string, string> = {}) {
  const r = await home.run(["nemoclaw", "onboard", "--non-interactive", "--json", "--name", name, ...args], { env: { NEMOCLAW_PORT: "0", ...env }, timeoutMs: 900_000 });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`onboard did not print a JSON report (exit ${r.exitCode}):\n${r.all}`);
  }
  return { ...r, report };
}

const inside = (argv: readonly string[]) => home.run(["nemoclaw", name, "exec", "--", ...argv], { timeoutMs: 300_000 });

beforeAll(async () => {
  home = await createPluginHome();
  stub = await startStub("openai", { tag: "stub" });
  const state = home.env.OPENCLAW_STATE_DIR!;
  configFile = path.join(state, "openclaw.json");
  // The plugin install wrote this file; the operator's own settings go next to it.
  const installed = JSON5.parse(await readFile(configFile, "utf8")) as Record<string, unknown>;
  await writeFile(
    configFile,
    JSON.stringify(
      {
        ...installed,
        agents: { entries: { scout: { name: "Scout", model: "vllm/stub-model", identity: { name: "Scout", emoji: "🔭" } } } },
        channels: { telegram: { enabled: false, botToken: TELEGRAM, dmPolicy: "pairing", allowFrom: ["12345"] } },
        skills: { entries: { hello: { enabled: true, env: { HELLO_SECRET: SKILL_ENV } } } },
        approvals: { plugin: { enabled: true, mode: "both", targets: [{ channel: "telegram", to: "12345" }], agentFilter: ["main"] } },
        models: { providers: { vllm: { baseUrl: stub.baseUrl, apiKey: PROVIDER_KEY, api: "openai-completions", models: [{ id: "stub-model", name: "stub", contextWindow: 100000, maxTokens: 1000 }] } } },
      },
      null,
      2,
    ),
  );
  before = JSON5.parse(await readFile(configFile, "utf8")) as Record<string, unknown>;
  const ws = path.join(state, "workspace");
  await mkdir(path.join(ws, "skills", "hello"), { recursive: true });
  await writeFile(path.join(ws, "AGENTS.md"), "# Scout\nLook around carefully.\n");
  await writeFile(path.join(ws, "SOUL.md"), "Curious and careful.\n");
  await writeFile(path.join(ws, "skills", "hello", "SKILL.md"), "---\nname: hello\ndescription: Say hello.\n---\nSay hello.\n");
  await writeFile(path.join(ws, ".env"), `TELEGRAM_BOT_TOKEN=${TELEGRAM}\n`);
}, 900_000);

afterAll(async () => {
  await home?.teardown([name]);
  await stub?.close();
});

describe("onboard carries the operator's OpenClaw state into the sandbox", () => {
  it("agent, channel (token as placeholder), skill and workspace inside; no secret inside; host config changed only by the launch switch", async () => {
    const r = await onboard(["--provider", "vllm", "--base-url", stub.baseUrl, "--model", "stub-model", "--api-key-env", "STUB_KEY"], { STUB_KEY: ROUTE_KEY });
    expect(r.exitCode, r.all).toBe(0);
    const step = r.report.steps.find((s) => s.id === "carry-over");
    expect(step?.status, r.all).toBe("done");
    expect(r.report.facts["Carried over"]).toBe("1 agent (scout), telegram channel (disabled, token as placeholder), 1 skill (hello), skills settings for hello, 1 model provider at inference.local (vllm), workspace (3 files)");
    expect(r.report.facts["Not carried"]).toContain("skills.entries.hello.env.HELLO_SECRET");
    expect(r.report.facts["Not carried"]).toContain("plugins (plugins are not installed inside");
    expect(r.report.facts["Files skipped"]).toBe(".env (looks like a secret)");
    expect(r.report.steps.find((s) => s.id === "health")?.status).toBe("ok");

    // The token is a host credential of the Telegram kind, bound to api.telegram.org.
    const creds = JSON.parse((await home.run(["nemoclaw", "credentials", "list", "--json"])).stdout) as { credentials: Array<{ name: string; kind: string; fingerprint: string; bindings: Array<{ host: string }> }> };
    const cred = creds.credentials.find((c) => c.name === `${name}-telegram-bottoken`);
    expect(cred).toMatchObject({ kind: "telegram-bot", fingerprint: createHash("sha256").update(TELEGRAM).digest("hex").slice(0, 8) });
    expect(cred?.bindings.map((b) => b.host)).toEqual(["api.telegram.org"]);

    // OpenClaw's own CLI inside (the gateway's config, read through the launcher) knows the agent.
    const agents = await inside(["node", ENTRY, "agents", "list", "--json"]);
    expect(agents.exitCode, agents.all).toBe(0);
    const list = JSON.parse(agents.stdout.slice(agents.stdout.indexOf("["))) as Array<{ id: string; name?: string; workspace: string; model: string }>;
    expect(list.map((a) => a.id)).toEqual(["scout"]);
    expect(list[0]).toMatchObject({ name: "Scout", model: "vllm/stub-model" });
    expect(list[0]?.workspace.startsWith("/sandbox/workspace")).toBe(true);

    // One look inside through the launcher: the config, the workspace files, a search for every secret.
    const secretsArgs = SECRETS.map((x) => `'${x}'`).join(" ");
    const look = await inside([
      "sh",
      "-c",
      `cat /sandbox/.openclaw/openclaw.json; echo '<<end-config>>'; cat /sandbox/workspace/AGENTS.md; stat -c '%u %n' /sandbox/workspace/AGENTS.md /sandbox/workspace/skills/hello/SKILL.md; ls -A /sandbox/workspace; echo '<<end-files>>'; env; for s in 'Look around carefully.' ${secretsArgs}; do grep -rlF -- "$s" /sandbox /tmp /run/nemoclaw 2>/dev/null | sed "s|^|FOUND |"; done; echo searched`,
    ]);
    const [configText = "", rest = ""] = look.stdout.split("<<end-config>>\n");
    const [files = "", search = ""] = rest.split("<<end-files>>\n");

    // The config inside: the placeholder where the token was, the provider at inference.local.
    const config = JSON.parse(configText) as { channels: { telegram: { botToken: string; enabled: boolean } }; models: { providers: Record<string, { baseUrl: string; apiKey: string }> }; gateway: { auth: { mode: string } }; approvals: unknown };
    // Where egress prompts go: the operator's mode and targets, always enabled, without their filter.
    expect(config.approvals).toEqual({ plugin: { enabled: true, mode: "both", targets: [{ channel: "telegram", to: "12345" }] } });
    expect(config.channels.telegram.botToken).toMatch(/^[1-9]\d{9}:AA[\w-]{33}$/);
    expect(config.channels.telegram.botToken).not.toBe(TELEGRAM);
    expect(config.models.providers.vllm).toMatchObject({ baseUrl: "http://inference.local/v1", apiKey: "nemoclaw-inference-local" });
    expect(config.gateway.auth.mode).toBe("token");

    // The workspace files, the sandbox user's; the .env stayed on the host.
    expect(files).toContain("Look around carefully.");
    expect(files).toContain("1000 /sandbox/workspace/AGENTS.md");
    expect(files).toContain("1000 /sandbox/workspace/skills/hello/SKILL.md");
    expect(files).not.toContain(".env");

    // No secret anywhere inside: no file holds one (the search does find a string that is there), nor the environment.
    expect(search).toContain("searched");
    expect(search.match(/^FOUND .*$/gm)).toEqual(["FOUND /sandbox/workspace/AGENTS.md"]);
    for (const x of SECRETS) expect(search).not.toContain(x);

    // The operator's config: unchanged but for the launch switch.
    const after = JSON5.parse(await readFile(configFile, "utf8")) as { plugins: { entries: { nemoclaw: { config?: Record<string, unknown> } } } };
    expect(after.plugins.entries.nemoclaw.config?.launch).toEqual({ sandbox: name, enabled: true });
    delete after.plugins.entries.nemoclaw.config?.launch;
    if (after.plugins.entries.nemoclaw.config && Object.keys(after.plugins.entries.nemoclaw.config).length === 0) delete after.plugins.entries.nemoclaw.config;
    const { meta: _afterMeta, ...afterRest } = after as Record<string, unknown>;
    const { meta: _beforeMeta, ...beforeRest } = before;
    expect(afterRest).toEqual(beforeRest);
  }, 1_200_000);

  it("re-running changes nothing", async () => {
    const r = await onboard([]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.report.steps.find((s) => s.id === "carry-over")).toMatchObject({ status: "unchanged" });
    expect(r.report.steps.find((s) => s.id === "carry-over")?.detail).toContain("config unchanged, 0 files written");
  }, 1_200_000);
});
