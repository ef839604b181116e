// Staged read-only volumes (the supervisor, OpenClaw): filled once, and a process that saw one
// complete, or a later one reading the memo file, trusts it again with one inspect, until the
// volume is removed and made again.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { ensureStagedVolume } from "../../blueprint/sandbox/staged-volume.js";
import { BASE_IMAGE, dockerClient, ensureBaseImage } from "../helpers/docker-images.js";
import { uniqueName } from "../helpers/docker-run.js";

const docker = dockerClient();
let dir: string;
const volumes: string[] = [];

/** What a plain container sees in the volume: its files, one per line. */
async function listing(volume: string): Promise<string> {
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Entrypoint: ["/bin/sh", "-c", "ls -A /stage | sort"],
    Cmd: [],
    HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: volume, Target: "/stage", ReadOnly: true }] },
  });
  try {
    await container.start();
    await container.wait();
    const logs = await container.logs({ stdout: true, stderr: false });
    // Multiplexed: 8-byte frame headers before each chunk.
    let out = "";
    for (let i = 0; i + 8 <= logs.length; ) {
      const size = logs.readUInt32BE(i + 4);
      out += logs.subarray(i + 8, i + 8 + size).toString("utf8");
      i += 8 + size;
    }
    return out.trim();
  } finally {
    await container.remove({ force: true });
  }
}

beforeAll(async () => {
  await ensureBaseImage(docker);
  dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-staged-"));
  await writeFile(path.join(dir, "payload.js"), "// staged\n");
});

afterAll(async () => {
  for (const v of volumes) await docker.getVolume(v).remove({ force: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe("a staged volume", () => {
  test("is filled once; a second ask fills nothing; removed and asked again, it is filled again", async () => {
    const name = uniqueName("nemoclaw-staged-test");
    volumes.push(name);
    const options = { name, kind: "test", image: BASE_IMAGE, cwd: dir, entries: ["payload.js"] };
    expect(await ensureStagedVolume(docker, options)).toBe(true);
    expect(await ensureStagedVolume(docker, options)).toBe(false);
    expect(await listing(name)).toBe(".nemoclaw-staged\npayload.js");

    // Gone (gc, uninstall, `docker volume rm`) behind this process's back: not trusted from memory.
    await docker.getVolume(name).remove();
    expect(await ensureStagedVolume(docker, options)).toBe(true);
    expect(await listing(name)).toBe(".nemoclaw-staged\npayload.js");
  });

  test("an interrupted fill (no marker) is filled again", async () => {
    const name = uniqueName("nemoclaw-staged-test");
    volumes.push(name);
    await docker.createVolume({ Name: name });
    expect(await listing(name)).toBe("");
    expect(await ensureStagedVolume(docker, { name, kind: "test", image: BASE_IMAGE, cwd: dir, entries: ["payload.js"] })).toBe(true);
    expect(await listing(name)).toBe(".nemoclaw-staged\npayload.js");
  });

  test("a new process trusts what the memo file remembers (no filler container), and checks a volume made again or a damaged memo", async () => {
    const name = uniqueName("nemoclaw-staged-test");
    volumes.push(name);
    const kind = uniqueName("memo");
    const memo = path.join(dir, `${kind}.json`);
    const options = { name, kind, image: BASE_IMAGE, cwd: dir, entries: ["payload.js"], memo };
    expect(await ensureStagedVolume(docker, options)).toBe(true);
    expect(JSON.parse(await readFile(memo, "utf8")).complete[name]).toMatch(/^[0-9a-f-]{36} /);

    /** A fresh module (its in-process memory empty, as in the next CLI verb's process); how many filler containers it made. */
    const inNewProcess = async (): Promise<{ filled: boolean; fillers: number }> => {
      vi.resetModules();
      const fresh = await import("../../blueprint/sandbox/staged-volume.js");
      // Fractional seconds: a filler of the step before, in the same second, is not counted.
      const since = (Date.now() / 1000).toFixed(3);
      const filled = await fresh.ensureStagedVolume(docker, options);
      const events = (await docker.getEvents({ since: since as unknown as number, until: Math.ceil(Date.now() / 1000) + 1, filters: { type: ["container"], event: ["create"], label: [`nemoclaw.staged=${kind}-filler`] } })) as unknown as NodeJS.ReadableStream;
      let text = "";
      for await (const chunk of events) text += chunk.toString();
      return { filled, fillers: text.split("\n").filter((l) => l.trim() !== "").length };
    };
    expect(await inNewProcess()).toEqual({ filled: false, fillers: 0 });

    // Removed and made again: the memo names another volume, so it is checked (and filled).
    await docker.getVolume(name).remove();
    expect(await inNewProcess()).toEqual({ filled: true, fillers: 1 });

    // A damaged memo is only a cache: the volume is checked through a filler again, and found complete.
    await writeFile(memo, "{");
    expect(await inNewProcess()).toEqual({ filled: false, fillers: 1 });
    expect(await inNewProcess()).toEqual({ filled: false, fillers: 0 });
  }, 120_000);
});
