// Staged read-only volumes (the supervisor, OpenClaw): filled once, and a process that saw one
// complete trusts it again with one inspect, until the volume is removed and made again.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
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
});
