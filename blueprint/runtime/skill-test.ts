// `skill test`: run an untrusted skill in a throwaway gateway sandbox whose egress observes
// (egress_mode: observe — nothing leaves, nothing is held, every attempt recorded), install it
// the way OpenClaw installs skills (`openclaw skills install` inside, so before_install hooks
// run), run the prompts with the routed model, collect what every layer saw, destroy the sandbox
// (unless keep) and build the report (skill-report.ts).
//
// The prompts run as `openclaw agent --local` inside the sandbox, as the sandbox's workload user,
// with the seeded gateway config's tool settings (tools in the tools' Landlock domain through the
// nemoclaw-tools backend) but a state dir of its own: OpenClaw refuses `--local` turns on a state
// dir whose gateway runs. Nothing inside says "test": the sandbox is named like any other, the
// paths and environment are the ones every gateway sandbox has.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { readAuditEvents } from "../gateway/audit.js";
import { openclawProviderEntries } from "../inference/openclaw-config.js";
import type { Route } from "../inference/route.js";
import { serializePolicy } from "../policy/serialize.js";
import type { Policy } from "../policy/schema.js";
import { gatewayConfig, TOOL_WORKSPACE } from "../sandbox/gateway-inside.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import { DEFAULT_BASE_IMAGE } from "../sandbox/image.js";
import { composePolicy } from "../sandbox/sandbox-policy.js";
import { sandboxDir } from "../state/paths.js";
import { RuntimeError } from "../state/runtime-error.js";
import { GATEWAY_COMPILE_CACHE } from "../supervisor/gateway-relay.js";
import { toolCommandLog } from "../supervisor/tool-domain.js";
import { inferenceCall } from "./inference-call.js";
import { diffListings, egressAttempts, listingCommand, transcriptToolCalls, type ToolCall } from "./skill-evidence.js";
import { EXIT_CLEAN, EXIT_POLICY_DENIALS, EXIT_RISKY, groupAttempts, suggestPolicy, verdict } from "./skill-report.js";
import type { SkillReport } from "./skill-report-schema.js";
import { defaultPrompts, resolveSkillSource, skillFiles } from "./skill-source.js";
import { CLAWHUB_PREFIX } from "./clawhub-fetch.js";

export interface SkillTestRequest {
  stateDir: string;
  baseImage?: string | undefined;
  openclawDir: string;
  source: string;
  /** ClawHub's base URL as the CLI saw it (OPENCLAW_CLAWHUB_URL, CLAWHUB_URL), for clawhub: sources. */
  clawhubUrl?: string | undefined;
  prompts: string[];
  timeoutS: number;
  route: { provider: string; model: string; baseUrl?: string | undefined; credential?: string | undefined };
  keep: boolean;
  policyFile?: string | undefined;
}
type Progress = (step: string, message: string) => void;

const HOME = "/sandbox";
/**
 * The prompts' OpenClaw state dir: inside the gateway's, which every gateway sandbox has and the
 * tools cannot reach, so `ls -a /sandbox` looks as in any other sandbox.
 */
const AGENT_STATE = `${HOME}/.openclaw/turns`;
/** Where the skill's files are put before `openclaw skills install` copies them. */
const INCOMING = `${HOME}/.cache/incoming`;
const INTERNAL_HOSTS = ["inference.local"];
/** Files OpenClaw itself writes into a fresh workspace on the first turn: not the skill's doing. */
const OPENCLAW_WORKSPACE_FILES = new Set(["AGENTS.md", "BOOTSTRAP.md", "IDENTITY.md", "SOUL.md", "USER.md", "TOOLS.md", "HEARTBEAT.md", "MEMORY.md"]);
/** A gateway and an agent turn side by side: 2 GiB is not enough. */
const MEMORY_BYTES = 4 * 1024 ** 3;

function neutralName(): string {
  return `assistant-${randomBytes(3).toString("hex")}`;
}

async function exec(driver: SandboxDriver, name: string, argv: readonly string[], stdin?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  if (stdin === undefined) return driver.execCapture(name, argv);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
  const exitCode = await driver.exec(name, argv, { stdin: PassThrough.from([Buffer.from(stdin)]), stdout, stderr });
  await new Promise((r) => setTimeout(r, 20));
  return { exitCode, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** The observe policy: the given one (or the base), with the base's model access, observing. */
async function observePolicy(policyFile: string | undefined): Promise<{ base: Policy; policy: Policy }> {
  const base = (await composePolicy(undefined, [])).policy;
  const given = policyFile === undefined ? base : (await composePolicy(policyFile, [])).policy;
  const network = { ...(base.network_policies ?? {}), ...(given.network_policies ?? {}) };
  return { base, policy: { ...given, network_policies: network, egress_mode: "observe" } };
}

/** The prompts' OpenClaw config: the gateway's (without its gateway block and token) plus the routed model. */
function agentConfig(route: Route): string {
  const seeded = JSON.parse(gatewayConfig("-").split("\n").filter((l) => !l.startsWith("//")).join("\n")) as Record<string, any>;
  delete seeded.gateway;
  const inference = openclawProviderEntries(route);
  seeded.models = { providers: inference.providers };
  seeded.agents.defaults.model = { primary: inference.primary };
  seeded.tools.toolSearch = false;
  return JSON.stringify(seeded, null, 2);
}

const WRITE_CONFIG = `const fs=require("fs");fs.mkdirSync(process.argv[1],{recursive:true,mode:0o700});fs.writeFileSync(process.argv[1]+"/openclaw.json",require("fs").readFileSync(0,"utf8"),{mode:0o600});`;
const WRITE_FILES = `const fs=require("fs"),p=require("path");const files=JSON.parse(fs.readFileSync(0,"utf8"));for(const [rel,b64] of Object.entries(files)){const f=p.join(process.argv[1],rel);if(!f.startsWith(process.argv[1]+"/"))process.exit(3);fs.mkdirSync(p.dirname(f),{recursive:true});fs.writeFileSync(f,Buffer.from(b64,"base64"));}`;

/**
 * Prints one prompt's transcript as JSON lines: `argv[2]` is the --session-id it ran with. OpenClaw
 * 2026.9 keeps transcripts in the agent's database (`transcript_events`, each event JSON or
 * zstd-compressed JSON, under a session id of its own whose window names ours in its key);
 * earlier versions wrote `<session>.jsonl` files, read when there is no database.
 */
const READ_TRANSCRIPT = `const fs=require("fs"),p=require("path"),[state,id]=process.argv.slice(1),db=p.join(state,"agents/main/agent/openclaw-agent.sqlite");
if(fs.existsSync(db)){const {DatabaseSync}=require("node:sqlite"),z=require("node:zlib");const d=new DatabaseSync(db,{readOnly:true});
for(const r of d.prepare("select e.event_json j,e.event_zstd c from transcript_events e join session_windows w on w.session_id=e.session_id where w.session_key like ? order by w.rowid,e.seq").all("%:"+id))console.log(r.j??(r.c?z.zstdDecompressSync(r.c).toString("utf8"):"{}"));}
else for(const f of fs.readdirSync(state,{recursive:true}))if(String(f).includes(id)&&String(f).endsWith(".jsonl"))process.stdout.write(fs.readFileSync(p.join(state,String(f)),"utf8")+"\\n");`;

export async function runSkillTest(driver: SandboxDriver, req: SkillTestRequest, progress: Progress): Promise<SkillReport> {
  if (req.source.startsWith(CLAWHUB_PREFIX)) progress("fetch", `installing ${req.source} from ClawHub on the host (openclaw skills install, scratch state dir)`);
  const skill = await resolveSkillSource(req.source, { openclawDir: req.openclawDir, clawhubUrl: req.clawhubUrl });
  const prompts = req.prompts.length > 0 ? req.prompts : defaultPrompts(skill);
  const temp = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-observe-"));
  const name = neutralName();
  let created = false;
  try {
    const { base, policy } = await observePolicy(req.policyFile);
    const policyPath = path.join(temp, "policy.yaml");
    await writeFile(policyPath, serializePolicy(policy));
    progress("sandbox", `creating throwaway sandbox ${name} (observe mode)`);
    await driver.create({ name, baseImage: req.baseImage ?? DEFAULT_BASE_IMAGE, policyFile: policyPath, openclawDir: req.openclawDir, gateway: true, limits: { memoryBytes: MEMORY_BYTES } }, (step, message) => progress(step, message));
    created = true;
    const set = (await inferenceCall(req.stateDir, "inference/set", { sandbox: name, ...Object.fromEntries(Object.entries(req.route).filter(([, v]) => v !== undefined)) })) as { route: Route };
    const record = await driver.registry.get(name);
    const entry = record.openclaw?.entry;
    if (entry === undefined) throw new RuntimeError("openclaw-missing", "the sandbox has no OpenClaw staged", "pass the OpenClaw package (the CLI does this itself)");
    const openclaw = (...args: string[]) => ["/usr/bin/env", `OPENCLAW_STATE_DIR=${AGENT_STATE}`, "/usr/local/bin/node", entry, ...args];

    const wrote = await exec(driver, name, ["/usr/local/bin/node", "-e", WRITE_CONFIG, AGENT_STATE], agentConfig(set.route));
    if (wrote.exitCode !== 0) throw new RuntimeError("skill-setup-failed", `writing the OpenClaw config inside failed: ${wrote.stderr.slice(0, 300)}`);
    const staged = `${INCOMING}/${path.basename(skill.dir)}`;
    const put = await exec(driver, name, ["/usr/local/bin/node", "-e", WRITE_FILES, staged], JSON.stringify(await skillFiles(skill.dir)));
    if (put.exitCode !== 0) throw new RuntimeError("skill-setup-failed", `copying the skill into the sandbox failed: ${put.stderr.slice(0, 300)}`);
    progress("install", `openclaw skills install ${skill.name} (inside)`);
    const installed = await exec(driver, name, openclaw("skills", "install", staged));
    await exec(driver, name, ["rm", "-rf", INCOMING]);
    if (installed.exitCode !== 0) {
      throw new RuntimeError("skill-install-failed", `openclaw skills install refused the skill (exit ${installed.exitCode}): ${(installed.stderr || installed.stdout).slice(-600)}`, "check the skill with `openclaw skills install <dir>` in a scratch workspace");
    }

    // OpenClaw's own state and caches (its compile cache too): the tools cannot write there; the
    // agent process does.
    const skip = [`${HOME}/.openclaw`, `${HOME}/.cache/openclaw`, GATEWAY_COMPILE_CACHE, INCOMING];
    const before = (await exec(driver, name, listingCommand(HOME, skip))).stdout;
    const started = Date.now();
    const windows: number[] = [];
    const runs: SkillReport["prompts"] = [];
    const sessions: string[] = [];
    for (const [index, text] of prompts.entries()) {
      progress("prompt", `${index + 1}/${prompts.length}: ${text.slice(0, 80)}`);
      const session = randomUUID();
      sessions.push(session);
      windows.push(Date.now());
      const t0 = Date.now();
      const r = await exec(driver, name, openclaw("agent", "--local", "--agent", "main", "--session-id", session, "--message", text, "--json", "--timeout", String(req.timeoutS)));
      runs.push({ index, text, exitCode: r.exitCode, durationMs: Date.now() - t0, output: (r.stdout || r.stderr).slice(-1000) });
    }
    const promptsEnded = Date.now();
    // Delayed behaviour: the sandbox stays up for the whole --timeout window.
    const linger = started + req.timeoutS * 1000 - Date.now();
    if (linger > 0) {
      progress("observe", `watching ${Math.ceil(linger / 1000)} s more for delayed behaviour`);
      await new Promise((r) => setTimeout(r, linger));
    }
    const after = (await exec(driver, name, listingCommand(HOME, skip))).stdout;
    const promptOf = (time: number) => (time > promptsEnded ? -1 : Math.max(0, windows.filter((w) => w <= time).length - 1));

    // Tool calls: the backend's command log (everything started in the tools' domain) and the
    // transcripts (in-process tools too), merged.
    const toolCalls: ToolCall[] = [];
    const log = await exec(driver, name, ["cat", toolCommandLog({ OPENCLAW_STATE_DIR: AGENT_STATE })]);
    for (const line of log.stdout.split("\n")) {
      try {
        const e = JSON.parse(line) as { time: number; kind: string; command: string; args?: string[] };
        if (e.kind === "exec") toolCalls.push({ prompt: promptOf(e.time), tool: "exec", text: e.command });
        else toolCalls.push({ prompt: promptOf(e.time), tool: "file-bridge", text: [e.command, ...(e.args ?? [])].join(" ") });
      } catch {
        // a partial line
      }
    }
    for (const [index, session] of sessions.entries()) {
      const t = await exec(driver, name, ["/usr/local/bin/node", "-e", READ_TRANSCRIPT, AGENT_STATE, session]);
      for (const call of transcriptToolCalls(t.stdout, index)) {
        if (call.tool !== "exec" && !toolCalls.some((c) => c.text === call.text)) toolCalls.push(call);
        else {
          const same = toolCalls.find((c) => c.tool === "exec" && c.text === call.text && c.result === undefined);
          if (same && call.result !== undefined) same.result = call.result;
        }
      }
    }
    const files = diffListings(before, after, (p) => p.startsWith(`${TOOL_WORKSPACE}/`) && OPENCLAW_WORKSPACE_FILES.has(p.slice(TOOL_WORKSPACE.length + 1)) || p.startsWith(`${TOOL_WORKSPACE}/.openclaw/`));

    await new Promise((r) => setTimeout(r, 1500)); // the audit log writes in batches
    const events = await readAuditEvents(path.join(sandboxDir(req.stateDir, name), "egress", "logs", "egress.jsonl"));
    const { attempts: raw, modelCalls, openclawCalls } = egressAttempts(events, started, INTERNAL_HOSTS);
    const attempts = raw.map((a) => ({ ...a, prompt: promptOf(a.time) }));
    const reasons = verdict({ attempts, toolCalls, files, skillText: skill.text, internalHosts: INTERNAL_HOSTS });
    const groups = groupAttempts(attempts);
    const risky = new Set(attempts.filter((a) => reasons.some((r) => r.code !== "undeclared-host" && r.evidence.some((e) => e.includes(`${a.host}:${a.port}`)))).map((a) => `${a.host}:${a.port}`));
    const denials = attempts.filter((a) => !a.policyAllows).length;
    const exitCode = reasons.length > 0 ? EXIT_RISKY : req.policyFile !== undefined && denials > 0 ? EXIT_POLICY_DENIALS : EXIT_CLEAN;
    return {
      skill: { name: skill.name, source: skill.origin ? `${req.source} (${skill.origin})` : req.source, description: skill.description },
      sandbox: { name, kept: req.keep },
      mode: req.policyFile === undefined ? "observe" : "policy",
      policyFile: req.policyFile === undefined ? null : path.resolve(req.policyFile),
      prompts: runs,
      modelCalls,
      openclawCalls,
      egress: groups,
      attempts,
      toolCalls,
      files,
      verdict: { risky: reasons.length > 0, reasons },
      denials,
      suggestedPolicy: suggestPolicy(base, groups, prompts, risky),
      exitCode,
    };
  } finally {
    if (created && !req.keep) {
      progress("sandbox", `destroying ${name}`);
      await driver.destroy(name).catch(() => undefined);
    }
    await rm(temp, { recursive: true, force: true });
    await skill.cleanup();
  }
}
