// `npm run bench`: what an `openclaw nemoclaw …` verb costs against OpenClaw's own floor, the
// same verbs of a plugin with no dependencies (test/fixtures/empty-plugin), installed into the
// same throwaway OpenClaw home and timed in the same rounds: its one-line verb is the floor for
// a verb that runs, its --help for ours (OpenClaw answers --help before its post-command work).
// Prints medians, each verb's ratio to its floor and its distance from it (goal: ≤ floor + 0.5 s).
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { inject, test } from "vitest";
import { repoRoot } from "../helpers/node24.js";
import { createOpenclawHome, installPlugin, type OpenclawHome } from "../helpers/openclaw.js";
import { ourCpu } from "./cpu-profile.js";

const ROUNDS = 7;
const EMPTY_PLUGIN = path.join(repoRoot, "test/fixtures/empty-plugin");

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const signed = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

async function timed(home: OpenclawHome, args: readonly string[]): Promise<number> {
  const started = performance.now();
  const r = await home.run(args, { timeoutMs: 300_000 });
  const elapsed = performance.now() - started;
  if (r.exitCode !== 0) throw new Error(`openclaw ${args.join(" ")} failed (${r.exitCode}):\n${r.all}`);
  return elapsed;
}

test("CLI verbs vs an empty plugin's verb", async () => {
  const home = await createOpenclawHome();
  try {
    let started = performance.now();
    await installPlugin(home);
    const installMs = performance.now() - started;
    started = performance.now();
    const empty = await home.run(["plugins", "install", EMPTY_PLUGIN, "--force", "--accept-capabilities"], { timeoutMs: 300_000 });
    if (empty.exitCode !== 0) throw new Error(`installing the empty plugin failed:\n${empty.all}`);
    const emptyInstallMs = performance.now() - started;

    const verbs: Array<{ label: string; args: string[]; floor?: number }> = [
      { label: "empty plugin: bench-empty hello", args: ["bench-empty", "hello"] },
      { label: "empty plugin: bench-empty --help", args: ["bench-empty", "--help"] },
      { label: "nemoclaw sandbox list", args: ["nemoclaw", "sandbox", "list"], floor: 0 },
      // The operator's one screen (daemon, engine disk, every sandbox): no sandbox here, so this
      // is its fixed cost.
      { label: "nemoclaw status", args: ["nemoclaw", "status"], floor: 0 },
      { label: "nemoclaw --help", args: ["nemoclaw", "--help"], floor: 1 },
    ];
    // One unmeasured round warms the page cache and OpenClaw's own state for every verb.
    for (const v of verbs) await timed(home, v.args);
    const samples = verbs.map(() => [] as number[]);
    // Interleaved, so every verb sees the same machine state.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, v] of verbs.entries()) samples[i]?.push(await timed(home, v.args));
    }

    // What the verbs cost us in CPU, apart from OpenClaw's noise: profiled runs, our frames only.
    const ourCode = /(extensions\/nemoclaw|plugin-captures).*\/dist\/(src|blueprint)\//;
    const runtimeMain = /\/dist\/blueprint\/runtime\/main\.js$/;
    const profiled: Array<{ label: string; inOpenclaw: number; runtime: number }> = [];
    for (const v of verbs.filter((x) => x.floor === 0)) {
      const runs: Array<{ inOpenclaw: number; runtime: number }> = [];
      for (let i = 0; i < 3; i++) {
        const dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-cli-prof-"));
        const r = await home.run(v.args, { timeoutMs: 300_000, env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` } });
        if (r.exitCode !== 0) throw new Error(`openclaw ${v.args.join(" ")} failed under the profiler (${r.exitCode}):\n${r.all}`);
        runs.push(await ourCpu(dir, ourCode, runtimeMain));
        await rm(dir, { recursive: true, force: true });
      }
      profiled.push({ label: v.label, inOpenclaw: median(runs.map((x) => x.inOpenclaw)), runtime: median(runs.map((x) => x.runtime)) });
    }

    const medians = samples.map(median);
    // Each round's verb minus its floor in the same round: the machine's state moves between
    // rounds by more than the distance measured, and a paired difference cancels most of it.
    const pairedDistance = (i: number, floor: number): number => median((samples[i] ?? []).map((x, round) => x - (samples[floor]?.[round] ?? Number.NaN)));
    const extensions = path.join(home.env.OPENCLAW_STATE_DIR ?? "", "extensions");
    const lines = ["", `CLI verbs through the real openclaw (median of ${ROUNDS}, after one warm-up round)`, ""];
    for (const [i, v] of verbs.entries()) {
      const xs = samples[i] ?? [];
      const m = medians[i] ?? Number.NaN;
      const floor = v.floor === undefined ? undefined : (medians[v.floor] ?? Number.NaN);
      const vsFloor =
        floor === undefined
          ? "a floor"
          : `${(m / floor).toFixed(2)}x ${verbs[v.floor ?? 0]?.args.slice(1).join(" ")}, ${signed((m - floor) / 1000)} s; paired per round, median ${signed(pairedDistance(i, v.floor ?? 0) / 1000)} s (goal ≤ +0.50 s)`;
      lines.push(`  ${v.label}: ${(m / 1000).toFixed(2)} s (min ${(Math.min(...xs) / 1000).toFixed(2)}, max ${(Math.max(...xs) / 1000).toFixed(2)}) — ${vsFloor}`);
    }
    for (const p of profiled) {
      lines.push(`  ${p.label}, CPU in our code (profiled, median of 3): ${p.inOpenclaw.toFixed(0)} ms in OpenClaw's process + ${p.runtime.toFixed(0)} ms in the runtime's process`);
    }
    lines.push(
      `  Install: nemoclaw ${(installMs / 1000).toFixed(1)} s, empty plugin ${(emptyInstallMs / 1000).toFixed(1)} s`,
      `  Installed files: nemoclaw ${await countFiles(path.join(extensions, "nemoclaw"))} (node_modules ${await countFiles(path.join(extensions, "nemoclaw", "node_modules"))}), empty plugin ${await countFiles(path.join(extensions, "bench-empty"))}`,
      `  Packed plugin: ${((await stat(inject("pluginTarball"))).size / 1024).toFixed(0)} KiB`,
      "",
    );
    console.log(lines.join("\n"));
  } finally {
    await home.dispose();
  }
}, 1_800_000);
