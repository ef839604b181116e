// A ClawHub skill fetched onto the host the way OpenClaw installs one: the operator's own
// `openclaw skills install <slug>` runs against a scratch OpenClaw state dir (so nothing of the
// operator's workspace or config is touched) and the folder it installs is taken. OpenClaw's
// checks all apply: the install resolution, ClawHub's security verdict for the release (a blocked
// release is not downloaded), the archive's integrity and the verification it records.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { RuntimeError } from "../state/runtime-error.js";

export const CLAWHUB_PREFIX = "clawhub:";
/** `clawhub:<slug>` or `clawhub:@<owner>/<slug>`: the references `openclaw skills install` takes. */
const REF = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/i;
const INSTALL_TIMEOUT_MS = 300_000;

export interface ClawHubFetch {
  /** Root of the `openclaw` package whose CLI installs the skill. */
  openclawDir: string;
  /** ClawHub's base URL; default the one OpenClaw would use (OPENCLAW_CLAWHUB_URL, CLAWHUB_URL, clawhub.ai). */
  clawhubUrl?: string | undefined;
}

async function openclawEntry(openclawDir: string): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(openclawDir, "package.json"), "utf8")) as { bin?: string | Record<string, string> };
  return path.join(openclawDir, typeof pkg.bin === "string" ? pkg.bin : (pkg.bin?.openclaw ?? "openclaw.mjs"));
}

export interface ClawHubSkill {
  dir: string;
  /** What OpenClaw recorded (`.clawhub/origin.json`): e.g. "weather-brief@1.0.0 from https://clawhub.ai, archive sha256 c8e7…". */
  origin: string;
}

function nextStep(message: string, ref: string, unreachable: boolean, where: string): string {
  if (/Outcome: Blocked|ClawHub blocked/i.test(message)) return "ClawHub's scan blocks this release: do not install it; to study it anyway, get its files another way and pass the folder";
  if (unreachable) return `ClawHub (${where}) could not be reached: check the network (or OPENCLAW_CLAWHUB_URL), or install the skill into a folder yourself and pass the folder`;
  if (/not found on ClawHub|\b404\b/i.test(message)) return `check the slug (openclaw skills search ${ref.replace(/^@[^/]+\//, "")}); an owner-qualified one is clawhub:@<owner>/<slug>`;
  return `run openclaw skills install ${ref} yourself for OpenClaw's full output, or pass the skill's folder`;
}

/** Installs `clawhub:<ref>` into `<scratch>/state/workspace/skills/` and returns that skill's folder. */
export async function fetchClawHubSkill(spec: string, scratch: string, opts: ClawHubFetch): Promise<ClawHubSkill> {
  const ref = spec.slice(CLAWHUB_PREFIX.length);
  if (!REF.test(ref)) throw new RuntimeError("skill-source-unsupported", `"${spec}" is not a ClawHub reference`, "write clawhub:<slug> or clawhub:@<owner>/<slug>");
  const stateDir = path.join(scratch, "state");
  const { OPENCLAW_CONFIG_PATH: _config, OPENCLAW_HOME: _home, ...env } = process.env;
  const r = await execa(process.execPath, [await openclawEntry(opts.openclawDir), "skills", "install", ref], {
    cwd: scratch,
    env: { ...env, OPENCLAW_STATE_DIR: stateDir, ...(opts.clawhubUrl ? { OPENCLAW_CLAWHUB_URL: opts.clawhubUrl } : {}), NO_COLOR: "1" },
    extendEnv: false,
    reject: false,
    timeout: INSTALL_TIMEOUT_MS,
    all: true,
  });
  const where = opts.clawhubUrl ?? process.env.OPENCLAW_CLAWHUB_URL ?? process.env.CLAWHUB_URL ?? "https://clawhub.ai";
  if (r.exitCode !== 0) {
    // OpenClaw's message is its last plain line; a release its security audit blocks gets only the
    // audit box (│ … │ lines), which then is the message.
    const lines = String(r.all ?? "").replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !/^[╭╰]/.test(l));
    const plain = lines.filter((l) => !l.startsWith("│"));
    const audit = lines.filter((l) => l.startsWith("│")).map((l) => l.replace(/^│|│$/g, "").trim()).filter((l) => l !== "" && l !== "Overview:");
    const last = r.timedOut ? `no answer in ${INSTALL_TIMEOUT_MS / 1000} s` : (plain.at(-1) ?? (audit.length > 0 ? `ClawHub's security audit: ${audit.join("; ")}` : `exit code ${r.exitCode}`));
    const unreachable = r.timedOut || /fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|timed out/i.test(last);
    throw new RuntimeError("skill-fetch-failed", `openclaw skills install ${ref} failed: ${last.slice(0, 400)}`, nextStep(last, ref, unreachable, where));
  }
  const skillsDir = path.join(stateDir, "workspace", "skills");
  const dirs = (await readdir(skillsDir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith("."));
  if (dirs.length !== 1 || !dirs[0]) throw new RuntimeError("skill-fetch-failed", `openclaw skills install ${ref} reported success but left no skill folder in ${skillsDir}`, "install the skill into a folder yourself and pass the folder");
  const dir = path.join(skillsDir, dirs[0].name);
  const recorded = JSON.parse(await readFile(path.join(dir, ".clawhub", "origin.json"), "utf8").catch(() => "{}")) as { slug?: string; installedVersion?: string; registry?: string; artifact?: { sha256?: string } };
  const origin = `${recorded.slug ?? ref}@${recorded.installedVersion ?? "?"} from ${recorded.registry ?? where}${recorded.artifact?.sha256 ? `, archive sha256 ${recorded.artifact.sha256.slice(0, 12)}` : ""}`;
  return { dir, origin };
}
