// `skill test clawhub:<slug>`: the skill is fetched on the host by the real `openclaw skills
// install` against a stub ClawHub on 127.0.0.1 (never the internet), into a scratch state dir.
// A served slug gives the skill's folder with SKILL.md and what OpenClaw recorded; an unknown
// slug, an unreachable ClawHub and a release ClawHub blocks each give a clear error with what to
// do next; a bare word is not looked up anywhere. Then once through `openclaw nemoclaw skill test`
// with the packed plugin: the CLI's OPENCLAW_CLAWHUB_URL reaches the fetch, a served skill runs
// in the throwaway sandbox (stub model on 127.0.0.1), an unknown one is a rendered error.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveSkillSource } from "../../blueprint/runtime/skill-source.js";
import { RuntimeError } from "../../blueprint/state/runtime-error.js";
import { freePort } from "../helpers/free-port.js";
import { repoRoot } from "../helpers/node24.js";
import { createPluginHome, type PluginHome } from "../helpers/openclaw.js";
import { startStubClawHub, type StubClawHub } from "../helpers/stub-clawhub.js";
import { execScript, startStub, type StubServer } from "../helpers/stub-models.js";

const FIXTURES = path.join(repoRoot, "test/fixtures/skills");
const openclawDir = path.join(repoRoot, "node_modules/openclaw");

async function failure(p: Promise<unknown>): Promise<RuntimeError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RuntimeError);
  return e as RuntimeError;
}

describe("skill sources from ClawHub, through the real openclaw skills install", () => {
  let hub: StubClawHub;
  let home: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    // The fetch passes the runtime's environment on; OpenClaw goes quiet (no security audit box)
    // when it sees vitest's variables, which the daemon never has.
    for (const k of Object.keys(process.env)) if (k.startsWith("VITEST") || k === "NODE_ENV") delete process.env[k];
    hub = await startStubClawHub({ "weather-brief": path.join(FIXTURES, "weather-brief"), "sync-agent": path.join(FIXTURES, "sync-agent") }, { blocked: ["sync-agent"] });
    // The operator's HOME is kept by the fetch (their ClawHub token lives there); here it is a temp one.
    home = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-clawhub-home-"));
    process.env.HOME = home;
  });
  afterAll(async () => {
    Object.assign(process.env, saved);
    await hub?.close();
    await rm(home, { recursive: true, force: true });
  });

  it("clawhub:<slug>: the folder has SKILL.md, the origin OpenClaw recorded, and cleanup removes it", async () => {
    const skill = await resolveSkillSource("clawhub:weather-brief", { openclawDir, clawhubUrl: hub.url });
    expect(await readFile(path.join(skill.dir, "SKILL.md"), "utf8")).toBe(await readFile(path.join(FIXTURES, "weather-brief/SKILL.md"), "utf8"));
    expect(skill.name).toBe("weather-brief");
    expect(skill.origin).toMatch(new RegExp(`^weather-brief@1\\.0\\.0 from ${hub.url.replace(/\./g, "\\.")}, archive sha256 [0-9a-f]{12}$`));
    // OpenClaw's own flow ran: resolution, the release's security verdict, the download, the verification.
    expect(hub.requests).toEqual(["GET /api/v1/skills/weather-brief/install", "POST /api/v1/skills/-/security-verdicts", "GET /files/weather-brief.zip", "GET /api/v1/skills/weather-brief/verify?version=1.0.0"]);
    await skill.cleanup();
    expect(existsSync(skill.dir)).toBe(false);
  });

  it("an unknown slug: says so, and how to find the right one", async () => {
    const e = await failure(resolveSkillSource("clawhub:no-such-skill", { openclawDir, clawhubUrl: hub.url }));
    expect(e.code).toBe("skill-fetch-failed");
    expect(e.message).toBe('openclaw skills install no-such-skill failed: Skill "no-such-skill" not found on ClawHub. Run `openclaw skills search no-such-skill` to find the right skill reference.');
    expect(e.hint).toBe("check the slug (openclaw skills search no-such-skill); an owner-qualified one is clawhub:@<owner>/<slug>");
  });

  it("a release ClawHub blocks: OpenClaw's verdict stands, nothing is downloaded", async () => {
    const before = hub.requests.length;
    const e = await failure(resolveSkillSource("clawhub:sync-agent", { openclawDir, clawhubUrl: hub.url }));
    expect(e.message).toBe(`openclaw skills install sync-agent failed: ClawHub's security audit: sync-agent@1.0.0; Outcome: Blocked; Sends ~/.ssh to a remote host.; Details: ${hub.url}/skills/sync-agent/security-audit`);
    expect(e.hint).toBe("ClawHub's scan blocks this release: do not install it; to study it anyway, get its files another way and pass the folder");
    expect(hub.requests.slice(before)).toEqual(["GET /api/v1/skills/sync-agent/install", "POST /api/v1/skills/-/security-verdicts"]);
  });

  it("ClawHub unreachable: names the registry and what to check", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const e = await failure(resolveSkillSource("clawhub:weather-brief", { openclawDir, clawhubUrl: closed }));
    expect(e.message).toMatch(/^openclaw skills install weather-brief failed: .*fetch failed/);
    expect(e.hint).toBe(`ClawHub (${closed}) could not be reached: check the network (or OPENCLAW_CLAWHUB_URL), or install the skill into a folder yourself and pass the folder`);
  });

  it("what is not a ClawHub reference is never looked up", async () => {
    const before = hub.requests.length;
    const bare = await failure(resolveSkillSource("weather-brief", { openclawDir, clawhubUrl: hub.url }));
    expect(bare.message).toBe('"weather-brief" is not a folder, an npm spec (name@version, npm:name) or a git URL');
    expect(bare.hint).toBe("for a ClawHub skill, write clawhub:weather-brief; for a folder, check the path");
    const bad = await failure(resolveSkillSource("clawhub:../etc", { openclawDir, clawhubUrl: hub.url }));
    expect(bad.message).toBe('"clawhub:../etc" is not a ClawHub reference');
    expect(bad.hint).toBe("write clawhub:<slug> or clawhub:@<owner>/<slug>");
    expect(hub.requests.length).toBe(before);
  });
});

describe("skill test clawhub:<slug> through the real OpenClaw", () => {
  let home: PluginHome;
  let hub: StubClawHub;
  let model: StubServer;
  beforeAll(async () => {
    home = await createPluginHome();
    hub = await startStubClawHub({ "weather-brief": path.join(FIXTURES, "weather-brief") });
    model = await startStub("openai", { script: execScript(["echo brief"]) });
  }, 900_000);
  afterAll(async () => {
    await home?.teardown([]);
    await hub?.close();
    await model?.close();
  });

  it("a served slug runs end to end: fetched on the host, the report's Source names what ClawHub served", async () => {
    const r = await home.run(
      ["nemoclaw", "skill", "test", "clawhub:weather-brief", "--model", "vllm/stub-model", "--base-url", model.baseUrl, "--prompt", "Use the weather-brief skill.", "--timeout", "30"],
      { env: { OPENCLAW_CLAWHUB_URL: hub.url }, timeoutMs: 1_100_000 },
    );
    expect(r.stderr).toContain("[fetch] installing clawhub:weather-brief from ClawHub on the host");
    expect(r.stdout).toMatch(/^Skill weather-brief: nothing risky seen\n\n/);
    expect(r.stdout).toMatch(new RegExp(`^ {2}Source: clawhub:weather-brief \\(weather-brief@1\\.0\\.0 from ${hub.url.replace(/\./g, "\\.")}, archive sha256 [0-9a-f]{12}\\)$`, "m"));
    expect(r.stdout).toContain("[prompt 1] exec: echo brief");
    expect(r.exitCode).toBe(0);
    expect(hub.requests.slice(0, 3)).toEqual(["GET /api/v1/skills/weather-brief/install", "POST /api/v1/skills/-/security-verdicts", "GET /files/weather-brief.zip"]);
  }, 1_200_000);

  it("an unknown slug: a clear error with what to do next, exit 1, no sandbox made", async () => {
    const r = await home.run(["nemoclaw", "skill", "test", "clawhub:no-such-skill", "--model", "vllm/m"], { env: { OPENCLAW_CLAWHUB_URL: hub.url } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("[fetch] installing clawhub:no-such-skill from ClawHub on the host");
    expect(r.stderr).toContain('Error: openclaw skills install no-such-skill failed: Skill "no-such-skill" not found on ClawHub.');
    expect(r.stderr).toContain("Next: check the slug (openclaw skills search no-such-skill)");
    expect(r.all).not.toMatch(/\n\s+at /);
    expect(hub.requests.at(-1)).toBe("GET /api/v1/skills/no-such-skill/install");
    const list = await home.run(["nemoclaw", "sandbox", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toMatchObject({ sandboxes: [] });
  }, 300_000);
});
