// The carry-over transform (operator's openclaw.json → the parts a gateway sandbox carries), the
// merge into the sandbox's own config, and the workspace collection: no secret of the fixture
// survives anywhere in what would enter the sandbox.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { carryOver, sensitiveValues, type CarryOptions } from "../../../blueprint/sandbox/carry-over.js";
import { mergeCarriedParts } from "../../../blueprint/sandbox/carry-over-config.js";
import { gatewayConfig } from "../../../blueprint/sandbox/gateway-inside.js";
import { collectWorkspace } from "../../../blueprint/sandbox/workspace-copy.js";

const S = {
  telegram: "7123456789:AAreal-telegram-token-0123456789abcdef",
  telegramAlt: "7987654321:AAreal-telegram-alt-token-fedcba987654",
  telegramWebhook: "real-webhook-secret-0123456789",
  slackBot: "xoxb-1234567890-0987654321-realSlackBotToken01",
  slackApp: "xapp-1-A0123456789-1234567890-realslackapptoken",
  slackSigning: "real-slack-signing-secret-abcdef0123",
  matrix: "real-matrix-password-0123456789",
  skillKey: "real-skill-api-key-0123456789",
  skillEnv: "real-skill-env-value-0123456789",
  vllmKey: "sk-real-vllm-key-0123456789abcdef",
  header: "real-header-secret-0123456789",
  anthropicKey: "sk-ant-real-anthropic-key-0123456789",
  gatewayToken: "real-gateway-token-0123456789abcdef",
  envKey: "sk-real-env-openai-key-0123456789",
  memoryKey: "real-memory-search-key-0123456789",
};

const operator = {
  meta: { lastTouchedVersion: "2026.9.6" },
  agents: {
    ownership: "explicit",
    defaults: {
      workspace: "~/ws",
      model: { primary: "vllm/stub-model", fallbacks: ["anthropic/claude-opus-4-6"] },
      sandbox: { mode: "off" },
      cwd: "/home/op/code",
      thinkingDefault: "low",
      memorySearch: { remote: { apiKey: S.memoryKey } },
    },
    entries: {
      main: { name: "Main", identity: { name: "Sam", avatar: "avatars/sam.png" } },
      helper: { workspace: "~/helper-ws", agentDir: "/home/op/.openclaw/agents/helper/agent", model: "vllm/stub-model", tools: { allow: ["browser"], elevated: { enabled: true }, deny: ["canvas"] }, sandbox: { mode: "off" }, skills: ["hello"] },
      writer: { model: { primary: "anthropic/claude-opus-4-6" }, runtime: { type: "acp" } },
    },
  },
  bindings: [{ agentId: "helper", match: { channel: "telegram", accountId: "alt" } }],
  channels: {
    telegram: { enabled: true, botToken: S.telegram, webhookSecret: S.telegramWebhook, tokenFile: "/home/op/tg.token", dmPolicy: "pairing", allowFrom: ["12345"], accounts: { alt: { botToken: S.telegramAlt } } },
    slack: { enabled: false, botToken: S.slackBot, appToken: S.slackApp, signingSecret: S.slackSigning },
    matrix: { homeserver: "https://matrix.example.org", password: S.matrix },
  },
  skills: { entries: { hello: { enabled: true, apiKey: S.skillKey, env: { HELLO_KEY: S.skillEnv } }, other: { enabled: false } }, load: { extraDirs: ["~/skills"] }, install: { nodeManager: "npm" } },
  models: {
    mode: "replace",
    providers: {
      vllm: { baseUrl: "http://127.0.0.1:8000/v1", apiKey: S.vllmKey, headers: { "X-Secret": S.header }, api: "openai-completions", models: [{ id: "stub-model", name: "stub", contextWindow: 100000, maxTokens: 1000 }] },
      anthropic: { baseUrl: "https://api.anthropic.com", apiKey: { source: "env", provider: "default", id: "ANTHROPIC_API_KEY" }, api: "anthropic-messages", models: [] },
      anthro2: { baseUrl: "https://api.anthropic.com", apiKey: S.anthropicKey, api: "anthropic-messages", models: [] },
    },
  },
  gateway: { port: 18789, auth: { mode: "token", token: S.gatewayToken } },
  tools: { exec: { host: "gateway", safeBins: ["/usr/local/bin/kubectl"] } },
  plugins: { entries: { nemoclaw: { enabled: true, config: { launch: { sandbox: "x", enabled: true } } } } },
  env: { vars: { OPENAI_API_KEY: S.envKey } },
};

const base: Omit<CarryOptions, "placeholders"> = {
  sandbox: "box",
  home: "/home/op",
  openclawStateDir: "/home/op/.openclaw",
  routerApiKey: "nemoclaw-inference-local",
  route: { shape: "openai", models: ["stub-model"] },
};

function findSecrets(text: string): string[] {
  return Object.entries(S).filter(([, v]) => text.includes(v)).map(([k]) => k);
}

describe("carryOver", () => {
  const first = carryOver(operator, base);
  const placeholders = new Map(first.secrets.map((s, i) => [s.name, `PLACEHOLDER-${i}`]));
  const r = carryOver(operator, { ...base, placeholders });

  it("finds the channel tokens OpenClaw sends to a known service, as credentials of that service's kind", () => {
    expect(first.secrets.map((s) => ({ name: s.name, kind: s.kind, where: s.where }))).toEqual([
      { name: "box-telegram-bottoken", kind: "telegram-bot", where: "channels.telegram.botToken" },
      { name: "box-telegram-alt-bottoken", kind: "telegram-bot", where: "channels.telegram.accounts.alt.botToken" },
      { name: "box-slack-bottoken", kind: "slack-bot", where: "channels.slack.botToken" },
      { name: "box-slack-apptoken", kind: "slack-app", where: "channels.slack.appToken" },
    ]);
    expect(first.secrets.map((s) => s.secret)).toEqual([S.telegram, S.telegramAlt, S.slackBot, S.slackApp]);
  });

  it("never puts a real secret into what enters the sandbox (either pass)", () => {
    expect(findSecrets(JSON.stringify(first.parts))).toEqual([]);
    expect(findSecrets(JSON.stringify(r.parts))).toEqual([]);
    expect(findSecrets(JSON.stringify(r.report))).toEqual([]);
    const merged = mergeCarriedParts(JSON.parse(gatewayConfig("sandbox-token").replace(/^\/\/.*\n/gm, "")) as Record<string, unknown>, r.parts);
    expect(findSecrets(JSON.stringify(merged))).toEqual([]);
  });

  it("puts each token's placeholder where the token was", () => {
    const telegram = r.parts.channels?.telegram as Record<string, unknown>;
    expect(telegram.botToken).toBe("PLACEHOLDER-0");
    expect((telegram.accounts as Record<string, { botToken: string }>).alt?.botToken).toBe("PLACEHOLDER-1");
    expect(telegram).toMatchObject({ enabled: true, dmPolicy: "pairing", allowFrom: ["12345"] });
    expect(telegram).not.toHaveProperty("webhookSecret");
    expect(telegram).not.toHaveProperty("tokenFile");
    expect(r.parts.channels?.slack).toEqual({ enabled: false, botToken: "PLACEHOLDER-2", appToken: "PLACEHOLDER-3" });
    expect(r.parts.channels?.matrix).toEqual({ homeserver: "https://matrix.example.org" });
    expect(r.report.channels).toEqual([
      { name: "telegram", enabled: true, placeholders: ["channels.telegram.botToken", "channels.telegram.accounts.alt.botToken"] },
      { name: "slack", enabled: false, placeholders: ["channels.slack.botToken", "channels.slack.appToken"] },
      { name: "matrix", enabled: true, placeholders: [] },
    ]);
  });

  it("a Discord token replaced by a placeholder comes with a warning naming the channel: its gateway login cannot work", () => {
    expect(r.report.warnings).toEqual([]);
    const discord = { channels: { discord: { enabled: true, token: "real-discord-token.abc.def0123456789", accounts: { ops: { token: "real-discord-ops.abc.def0123456789" } } } } };
    const found = carryOver(discord, base);
    const d = carryOver(discord, { ...base, placeholders: new Map(found.secrets.map((x, i) => [x.name, `PH-${i}`])) });
    expect(found.secrets.map((x) => x.kind)).toEqual(["discord-bot", "discord-bot"]);
    expect(d.report.warnings).toHaveLength(1);
    expect(d.report.warnings[0]).toMatch(/^the discord channel's token \(channels\.discord\.token, channels\.discord\.accounts\.ops\.token\) is now a placeholder: .*WebSocket IDENTIFY frame.*cannot log in/);
    expect(d.report.warnings[0]).not.toContain("real-discord");
    // Nothing replaced, nothing to warn about.
    expect(carryOver({ channels: { discord: { enabled: false } } }, { ...base, placeholders: new Map() }).report.warnings).toEqual([]);
  });

  it("a secret without its placeholder is an error, never the secret", () => {
    expect(() => carryOver(operator, { ...base, placeholders: new Map() })).toThrow(/no placeholder for credential box-telegram-bottoken/);
  });

  it("points every model provider at inference.local with the router's key", () => {
    expect(r.parts.providers).toEqual({
      vllm: { baseUrl: "http://inference.local/v1", apiKey: "nemoclaw-inference-local", api: "openai-completions", models: [{ id: "stub-model", name: "stub", contextWindow: 100000, maxTokens: 1000 }] },
      anthropic: { baseUrl: "http://inference.local", apiKey: "nemoclaw-inference-local", api: "anthropic-messages", models: [] },
      anthro2: { baseUrl: "http://inference.local", apiKey: "nemoclaw-inference-local", api: "anthropic-messages", models: [] },
    });
  });

  it("carries agents: workspaces under /sandbox/workspace, model choices kept where the route serves them, loosening settings dropped", () => {
    expect(r.report.agents).toEqual(["main", "helper", "writer"]);
    const entries = r.parts.agents.entries as Record<string, Record<string, unknown>>;
    expect(entries.main).toEqual({ name: "Main", identity: { name: "Sam", avatar: "avatars/sam.png" } });
    expect(entries.helper).toEqual({ model: "vllm/stub-model", tools: { deny: ["canvas"] }, skills: ["hello"], workspace: "/sandbox/workspace/helper" });
    expect(entries.writer).toEqual({});
    expect(r.parts.agents.ownership).toBe("explicit");
    expect(r.parts.agents.defaults).toEqual({ thinkingDefault: "low", memorySearch: { remote: {} } });
    expect(r.report.models).toEqual(["agents.defaults.model (vllm/stub-model)", "agents.entries.writer.model (anthropic/claude-opus-4-6)"]);
    expect(r.workspaces).toEqual([
      { from: "/home/op/ws", to: "/sandbox/workspace", agent: null },
      { from: "/home/op/helper-ws", to: "/sandbox/workspace/helper", agent: "helper" },
    ]);
  });

  it("without a route no per-agent model is kept (the sandbox's default applies)", () => {
    const { route: _route, ...noRoute } = base;
    const x = carryOver(operator, { ...noRoute, placeholders });
    expect((x.parts.agents.entries as Record<string, Record<string, unknown>>).helper).not.toHaveProperty("model");
  });

  it("reports every dropped setting with why", () => {
    const dropped = Object.fromEntries(r.report.dropped.map((d) => [d.path, d.why]));
    expect(Object.keys(dropped).sort()).toEqual(
      [
        "gateway",
        "tools",
        "plugins",
        "env",
        "models.mode",
        "models.providers.vllm.headers",
        "agents.defaults.sandbox",
        "agents.defaults.cwd",
        "agents.defaults.workspace",
        "agents.defaults.memorySearch.remote.apiKey",
        "agents.entries.helper.agentDir",
        "agents.entries.helper.tools.allow",
        "agents.entries.helper.tools.elevated",
        "agents.entries.helper.sandbox",
        "agents.entries.writer.runtime",
        "channels.telegram.webhookSecret",
        "channels.telegram.tokenFile",
        "channels.slack.signingSecret",
        "channels.matrix.password",
        "skills.entries.hello.apiKey",
        "skills.entries.hello.env.HELLO_KEY",
        "skills.load.extraDirs[0]",
      ].sort(),
    );
    expect(dropped.gateway).toMatch(/nemoclaw's own/);
    expect(dropped["channels.telegram.tokenFile"]).toBe("a host path");
    expect(dropped["channels.matrix.password"]).toMatch(/credentials add/);
    expect(r.parts.skills).toEqual({ entries: { hello: { enabled: true }, other: { enabled: false } }, load: { extraDirs: [] }, install: { nodeManager: "npm" } });
    expect(r.report.skillSettings).toEqual(["hello", "other"]);
    expect(r.parts.bindings).toEqual(operator.bindings);
  });

  it("an empty config carries nothing but the default workspace", () => {
    const x = carryOver({}, { ...base, placeholders: new Map() });
    expect(x.parts).toEqual({ agents: {}, providers: {} });
    expect(x.workspaces).toEqual([{ from: "/home/op/.openclaw/workspace", to: "/sandbox/workspace", agent: null }]);
    expect(x.report.dropped).toEqual([]);
  });
});

describe("mergeCarriedParts", () => {
  const seeded = JSON.parse(gatewayConfig("sandbox-token").replace(/^\/\/.*\n/gm, "")) as Record<string, unknown>;
  const withRoute: Record<string, unknown> = { ...seeded, models: { ...(seeded.models as object), mode: "merge", providers: { "nemoclaw-openai": { baseUrl: "http://inference.local/v1" } } } };
  (withRoute.agents as { defaults: Record<string, unknown> }).defaults.model = { primary: "nemoclaw-openai/routed" };
  const first = carryOver(operator, base);
  const parts = carryOver(operator, { ...base, placeholders: new Map(first.secrets.map((s) => [s.name, `PH-${s.name}`])) }).parts;
  const merged = mergeCarriedParts(withRoute, parts);

  it("keeps nemoclaw's own settings: gateway, tools, plugins, proxy, the router's entries, the sandbox's defaults", () => {
    for (const key of ["gateway", "tools", "plugins", "proxy", "update", "telemetry"]) expect(merged[key]).toEqual(withRoute[key]);
    const defaults = (merged.agents as { defaults: Record<string, unknown> }).defaults;
    expect(defaults).toMatchObject({ workspace: "/sandbox/workspace", sandbox: { mode: "all", backend: "nemoclaw" }, model: { primary: "nemoclaw-openai/routed" }, thinkingDefault: "low" });
    const providers = (merged.models as { providers: Record<string, unknown>; mode: string }).providers;
    expect(Object.keys(providers).sort()).toEqual(["anthro2", "anthropic", "nemoclaw-openai", "vllm"]);
    expect((merged.models as { mode: string }).mode).toBe("merge");
  });

  it("is idempotent, and a later carry-over replaces what an earlier one wrote", () => {
    expect(mergeCarriedParts(merged, parts)).toEqual(merged);
    const fewer = mergeCarriedParts(merged, { agents: {}, providers: {} });
    expect(fewer).not.toHaveProperty("channels");
    expect(fewer).not.toHaveProperty("bindings");
    expect(Object.keys((fewer.models as { providers: object }).providers)).toEqual(["nemoclaw-openai"]);
    expect((fewer.agents as { entries?: unknown }).entries).toBeUndefined();
    expect(fewer.gateway).toEqual(withRoute.gateway);
  });
});

describe("where approval prompts go (approvals.plugin)", () => {
  const seeded = JSON.parse(gatewayConfig("sandbox-token").replace(/^\/\/.*\n/gm, "")) as Record<string, unknown>;

  it("the operator's mode and targets are carried, always enabled; filters and exec approvals stay on the host", () => {
    const r = carryOver(
      {
        approvals: {
          exec: { enabled: true, mode: "session" },
          plugin: { enabled: false, mode: "targets", targets: [{ channel: "telegram", to: "12345" }], agentFilter: ["ops"], sessionFilter: ["main"] },
        },
      },
      { ...base, placeholders: new Map() },
    );
    expect(r.parts.approvalRouting).toEqual({ enabled: true, mode: "targets", targets: [{ channel: "telegram", to: "12345" }] });
    expect(r.report.dropped.map((d) => d.path).sort()).toEqual(["approvals.exec", "approvals.plugin.agentFilter", "approvals.plugin.enabled", "approvals.plugin.sessionFilter"]);
    const merged = mergeCarriedParts(seeded, r.parts);
    expect(merged.approvals).toEqual({ plugin: { enabled: true, mode: "targets", targets: [{ channel: "telegram", to: "12345" }] } });
  });

  it("without the operator's setting, or once it is removed, prompts go to the session as seeded", () => {
    expect((seeded.approvals as { plugin: unknown }).plugin).toEqual({ enabled: true, mode: "session" });
    const routed = mergeCarriedParts(seeded, { agents: {}, providers: {}, approvalRouting: { enabled: true, mode: "both", targets: [{ channel: "slack", to: "C1" }] } });
    expect(mergeCarriedParts(routed, { agents: {}, providers: {} }).approvals).toEqual(seeded.approvals);
    expect(carryOver({ approvals: { plugin: { mode: "bogus" } } }, { ...base, placeholders: new Map() }).parts.approvalRouting).toEqual({ enabled: true, mode: "session" });
  });
});

describe("collectWorkspace", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "carry-ws-"));
    await mkdir(path.join(dir, "skills", "hello"), { recursive: true });
    await mkdir(path.join(dir, "skills", "notes"), { recursive: true });
    await mkdir(path.join(dir, ".git"), { recursive: true });
    await writeFile(path.join(dir, "AGENTS.md"), "# agents\n");
    await writeFile(path.join(dir, "SOUL.md"), "be kind\n");
    await writeFile(path.join(dir, "skills", "hello", "SKILL.md"), "---\nname: hello\n---\n");
    await writeFile(path.join(dir, "skills", "notes", "README.md"), "not a skill\n");
    await writeFile(path.join(dir, ".env"), `TELEGRAM_BOT_TOKEN=${S.telegram}\n`);
    await writeFile(path.join(dir, "deploy.pem"), "-----BEGIN PRIVATE KEY-----\n");
    await writeFile(path.join(dir, "notes.md"), `my token is ${S.telegram}\n`);
    await writeFile(path.join(dir, ".git", "config"), "[core]\n");
    await symlink("/etc/passwd", path.join(dir, "passwd"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("takes the workspace's files and skills, skips secrets, symlinks and .git, and says why", async () => {
    const w = await collectWorkspace(dir, sensitiveValues(operator));
    expect(w.found).toBe(true);
    expect(w.files.map((f) => f.path).sort()).toEqual(["AGENTS.md", "SOUL.md", "skills/hello/SKILL.md", "skills/notes/README.md"]);
    expect(w.skills).toEqual(["hello"]);
    expect(w.skipped).toEqual([
      { path: ".env", why: "looks like a secret" },
      { path: ".git/", why: "version-control history" },
      { path: "deploy.pem", why: "looks like a secret" },
      { path: "notes.md", why: "holds a secret from your OpenClaw config" },
      { path: "passwd", why: "a symlink (it may point outside the workspace)" },
    ]);
    expect(findSecrets(w.files.map((f) => f.data.toString("utf8")).join("\n"))).toEqual([]);
  });

  it("a missing folder is not an error", async () => {
    expect(await collectWorkspace(path.join(dir, "nope"), [])).toEqual({ found: false, files: [], skipped: [], skills: [] });
  });
});

describe("sensitiveValues", () => {
  it("lists every value under a secret-named key or in an env map", () => {
    const values = sensitiveValues(operator);
    for (const [k, v] of Object.entries(S)) expect(values, k).toContain(v);
    expect(values).not.toContain("pairing");
  });
});
