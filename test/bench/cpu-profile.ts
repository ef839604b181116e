// CPU spent in our own code, read from V8 CPU profiles (`node --cpu-prof`): what a verb costs us
// in CPU, apart from OpenClaw's own start, whose wall time moves by seconds between runs.

import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** ms of non-idle samples in `profile`, all of them or only those whose stack has a frame from a script matching `ours`. */
function busyMs(profile: CpuProfile, ours?: RegExp): number {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, boolean>();
  const underOurs = (id: number | undefined): boolean => {
    if (id === undefined || ours === undefined) return ours === undefined;
    const known = memo.get(id);
    if (known !== undefined) return known;
    const hit = ours.test(byId.get(id)?.callFrame.url ?? "") || underOurs(parent.get(id));
    memo.set(id, hit);
    return hit;
  };
  let us = 0;
  profile.samples.forEach((id, i) => {
    if (byId.get(id)?.callFrame.functionName !== "(idle)" && underOurs(id)) us += profile.timeDeltas[i] ?? 0;
  });
  return us / 1000;
}

/**
 * Every profile in `dir`, split into the OpenClaw process (the one whose stacks reach our plugin)
 * and our runtime's processes (whose main script is the sealed runtime): ms of CPU in our code.
 */
export async function ourCpu(dir: string, plugin: RegExp, runtime: RegExp): Promise<{ inOpenclaw: number; runtime: number }> {
  let inOpenclaw = 0;
  let runtimeMs = 0;
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(await readFile(path.join(dir, file), "utf8")) as CpuProfile;
    if (profile.nodes.some((n) => runtime.test(n.callFrame.url))) runtimeMs += busyMs(profile);
    else inOpenclaw += busyMs(profile, plugin);
  }
  return { inOpenclaw, runtime: runtimeMs };
}
