// What `skill test` is given: a folder with SKILL.md, or a package to fetch onto the host first
// (npm spec, git URL, ClawHub reference: clawhub-fetch.ts). Fetching happens on the host, before the sandbox exists, because the
// sandbox observes: nothing could leave it to download the skill. Also reads SKILL.md's stated
// purpose and examples, from which the default prompts are made.
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { RuntimeError } from "../state/runtime-error.js";
import { CLAWHUB_PREFIX, fetchClawHubSkill, type ClawHubFetch } from "./clawhub-fetch.js";

export interface SkillSource {
  /** Host folder holding SKILL.md. */
  dir: string;
  /** From SKILL.md's front matter, else the folder's name. */
  name: string;
  description: string;
  /** SKILL.md's text, for the host names it declares. */
  text: string;
  /** Where a fetched skill came from, when the fetch says more than the spec (ClawHub: version, archive hash). */
  origin?: string;
  /** Removes what fetching made. */
  cleanup: () => Promise<void>;
}

const MAX_FILES = 500;
const MAX_BYTES = 8 * 1024 ** 2;

async function hasSkillFile(dir: string): Promise<boolean> {
  return stat(path.join(dir, "SKILL.md")).then((s) => s.isFile(), () => false);
}

/**
 * The skill's folder on the host: given, cloned (git), unpacked (npm pack) or installed from
 * ClawHub. The rule, in order: an existing folder; `clawhub:<slug>` / `clawhub:@<owner>/<slug>`;
 * a git URL (git: or git+ prefix, .git suffix, https://github.com/); an npm spec (npm: prefix or
 * name@version). A bare word is none of them: it is refused with the clawhub: spelling to use.
 */
export async function resolveSkillSource(spec: string, clawhub: ClawHubFetch): Promise<SkillSource> {
  const local = path.resolve(spec);
  if (await stat(local).then((s) => s.isDirectory(), () => false)) {
    if (!(await hasSkillFile(local))) throw new RuntimeError("skill-invalid", `${local} has no SKILL.md`, "point at the skill's folder (the one with SKILL.md)");
    return { ...(await readSkill(local)), cleanup: async () => {} };
  }
  const temp = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-skill-"));
  const cleanup = () => rm(temp, { recursive: true, force: true });
  try {
    let root: string;
    let origin: string | undefined;
    if (spec.startsWith(CLAWHUB_PREFIX)) {
      ({ dir: root, origin } = await fetchClawHubSkill(spec, temp, clawhub));
    } else if (/^git:|^git\+|\.git$|^https:\/\/github\.com\//.test(spec)) {
      const url = spec.replace(/^git:/, "").replace(/^git\+/, "");
      const r = await execa("git", ["clone", "--depth", "1", "--", url, path.join(temp, "src")], { reject: false });
      if (r.exitCode !== 0) throw new RuntimeError("skill-fetch-failed", `git clone ${url} failed: ${String(r.stderr).slice(0, 300)}`, "check the URL, or clone it yourself and pass the folder");
      root = path.join(temp, "src");
    } else if (/^(npm:|@[a-z0-9-~][a-z0-9-._~]*\/[a-z0-9-._~]+@|[a-z0-9-~][a-z0-9-._~]*@)/i.test(spec)) {
      const name = spec.replace(/^npm:/, "");
      const r = await execa("npm", ["pack", name, "--silent", "--pack-destination", temp], { reject: false, cwd: temp });
      const tgz = String(r.stdout).trim().split("\n").at(-1);
      if (r.exitCode !== 0 || !tgz) throw new RuntimeError("skill-fetch-failed", `npm pack ${name} failed: ${String(r.stderr).slice(0, 300)}`, "check the package spec (name@version)");
      await execa("tar", ["-xzf", path.join(temp, tgz), "-C", temp]);
      root = path.join(temp, "package");
    } else {
      throw new RuntimeError(
        "skill-source-unsupported",
        `"${spec}" is not a folder, an npm spec (name@version, npm:name) or a git URL`,
        `for a ClawHub skill, write clawhub:${spec}; for a folder, check the path`,
      );
    }
    const dir = (await hasSkillFile(root)) ? root : await findSkillDir(root);
    return { ...(await readSkill(dir)), ...(origin ? { origin } : {}), cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function findSkillDir(root: string): Promise<string> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const found = entries.find((e) => e.isFile() && e.name === "SKILL.md" && !e.parentPath.includes("node_modules"));
  if (found === undefined) throw new RuntimeError("skill-invalid", "the fetched package has no SKILL.md", "is it a skill? A skill is a folder with SKILL.md");
  return found.parentPath;
}

async function readSkill(dir: string): Promise<Omit<SkillSource, "cleanup">> {
  const text = await readFile(path.join(dir, "SKILL.md"), "utf8");
  const front = /^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? "";
  const field = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, "m").exec(front)?.[1]?.trim().replace(/^["']|["']$/g, "");
  return { dir, name: field("name") ?? path.basename(dir), description: field("description") ?? "", text };
}

/** The skill's files (relative path → content), bounded: a skill is text and small scripts. */
export async function skillFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.parentPath.split(path.sep).includes(".git")) continue;
    const rel = path.relative(dir, path.join(e.parentPath, e.name));
    const body = await readFile(path.join(dir, rel));
    total += body.length;
    if (Object.keys(files).length >= MAX_FILES || total > MAX_BYTES) {
      throw new RuntimeError("skill-too-large", `the skill has more than ${MAX_FILES} files or ${MAX_BYTES / 1024 ** 2} MiB`, "test the skill's own folder, without build output or dependencies");
    }
    files[rel] = body.toString("base64");
  }
  return files;
}

/**
 * Default prompts: one asking for the skill's stated purpose, plus up to three of its examples
 * (list items or quoted lines under a heading containing "example" or "usage").
 */
export function defaultPrompts(skill: Pick<SkillSource, "name" | "description" | "text">): string[] {
  // The description is quoted, not spliced into a sentence: it may be "Fetches…", "Fetch…" or "A tool that…".
  const description = skill.description.trim().replace(/\.$/, "");
  const prompts = [description === "" ? `Use the ${skill.name} skill.` : `Use the ${skill.name} skill for what it describes: ${description}.`];
  const section = /^#{1,6}\s*.*(example|usage).*$([\s\S]*?)(?=^#{1,6}\s|(?![\s\S]))/im.exec(skill.text)?.[2] ?? "";
  for (const line of section.split("\n")) {
    const m = /^\s*(?:[-*]|\d+\.)\s+["“]?(.+?)["”]?\s*$/.exec(line);
    if (m?.[1] && !m[1].startsWith("`") && prompts.length < 4) prompts.push(m[1]);
  }
  return prompts;
}
