// `skill test`'s fetchers for git URLs and npm specs, offline: a real `git clone` of a local bare
// repository (git+file://), a real `npm pack` of a tarball made from a fixture. Each must find the
// skill's SKILL.md (in a subfolder too) and leave nothing in the temp folder after cleanup, on
// success and on failure. TMPDIR is this file's own, so "nothing left" is exact.
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveSkillSource } from "../../blueprint/runtime/skill-source.js";
import { repoRoot } from "../helpers/node24.js";

const FIXTURE = path.join(repoRoot, "test/fixtures/skills/weather-brief");
const clawhub = { openclawDir: "/nonexistent" };
let work: string;
let tmp: string;
const savedTmp = process.env.TMPDIR;

const leftovers = async () => (await readdir(tmp)).filter((n) => n.startsWith("nemoclaw-skill-"));

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "skill-src-work-"));
  tmp = path.join(work, "tmp");
  await mkdir(tmp);
  process.env.TMPDIR = tmp;
});
afterAll(async () => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  await rm(work, { recursive: true, force: true });
});

describe("skill sources fetched on the host", () => {
  it("git+file:// of a local bare repo: cloned, SKILL.md found in its subfolder, the clone removed by cleanup", async () => {
    const src = path.join(work, "repo");
    await cp(FIXTURE, path.join(src, "skills", "weather-brief"), { recursive: true });
    await writeFile(path.join(src, "README.md"), "a repo with a skill in it\n");
    const git = (args: string[], cwd = src) => execa("git", ["-c", "user.name=n", "-c", "user.email=n@example.invalid", "-c", "init.defaultBranch=main", ...args], { cwd });
    await git(["init", "-q"]);
    await git(["add", "-A"]);
    await git(["commit", "-qm", "skill"]);
    const bare = path.join(work, "weather.git");
    await git(["clone", "-q", "--bare", src, bare], work);

    const skill = await resolveSkillSource(`git+file://${bare}`, clawhub);
    expect(skill.name).toBe("weather-brief");
    expect(skill.description).toContain("Fetches today's forecast");
    expect(path.relative(tmp, skill.dir)).toMatch(/^nemoclaw-skill-[^/]+\/src\/skills\/weather-brief$/);
    expect(await leftovers()).toHaveLength(1);
    await skill.cleanup();
    expect(await leftovers()).toEqual([]);
  });

  it("a git URL that does not clone: skill-fetch-failed naming the URL, nothing left behind", async () => {
    await expect(resolveSkillSource(`git+file://${work}/missing.git`, clawhub)).rejects.toMatchObject({ code: "skill-fetch-failed", message: expect.stringContaining(`git clone file://${work}/missing.git failed`) });
    expect(await leftovers()).toEqual([]);
  });

  it("an npm spec (npm:<tarball>): npm pack unpacks it, SKILL.md found, the package removed by cleanup", async () => {
    const pkg = path.join(work, "pkg");
    await cp(FIXTURE, pkg, { recursive: true });
    await writeFile(path.join(pkg, "package.json"), JSON.stringify({ name: "weather-brief-skill", version: "1.2.3", files: ["SKILL.md"] }));
    const packed = await execa("npm", ["pack", "--silent", "--pack-destination", work], { cwd: pkg });
    const tarball = path.join(work, packed.stdout.trim().split("\n").at(-1) as string);

    const skill = await resolveSkillSource(`npm:${tarball}`, clawhub);
    expect(skill.name).toBe("weather-brief");
    expect(path.relative(tmp, skill.dir)).toMatch(/^nemoclaw-skill-[^/]+\/package$/);
    await skill.cleanup();
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it("an npm spec that does not pack: skill-fetch-failed, nothing left behind", async () => {
    await expect(resolveSkillSource(`npm:${work}/no-such-1.0.0.tgz`, clawhub)).rejects.toMatchObject({ code: "skill-fetch-failed" });
    expect(await leftovers()).toEqual([]);
  }, 120_000);
});
