// `npm run bench`: sandbox start (create + start → workload ready, i.e. the supervisor saw the
// launcher's exec succeed) against a bare `docker run` of the same image in the same run
// (create + start → running), both through the Engine API. Prints medians, their ratio and the
// image size. Two sandbox rows: /sandbox without a quota (the like-for-like row: a bare run has
// none), and with the default 10 GiB quota, whose disk helper container runs once per create.
// A floor row: the bare run with Node as its entrypoint, to Node's first line read over attach,
// which is what any supervisor written for Node costs before it does anything.
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { test } from "vitest";
import { imageSize } from "../../blueprint/sandbox/image.js";
import { BASE_IMAGE, dockerClient } from "../helpers/docker-images.js";
import { createSandboxHarness, OPENCLAW_DIR } from "../helpers/docker-sandbox.js";
import { uniqueName } from "../helpers/docker-run.js";
import { runRuntime } from "../helpers/runtime-process.js";

const ROUNDS = 7;

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** ms from create through attach and start to the entrypoint's first line, as the driver waits for its supervisor's. */
async function bareNodeToFirstLine(docker: Docker, image: string): Promise<number> {
  const started = performance.now();
  const container = await docker.createContainer({
    name: uniqueName("bench-node"),
    Image: image,
    Entrypoint: ["/usr/local/bin/node", "-e", "process.stdout.write('ready\\n'); setInterval(() => {}, 1e9)"],
    HostConfig: { NetworkMode: "none" },
    AttachStdout: true,
  });
  try {
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true, logs: false })) as unknown as Readable;
    const ready = new Promise<void>((resolve) => {
      let seen = "";
      stream.on("data", (chunk: Buffer) => {
        seen += chunk.toString("latin1");
        if (seen.includes("ready")) resolve();
      });
    });
    await container.start();
    await ready;
    const elapsed = performance.now() - started;
    stream.destroy();
    return elapsed;
  } finally {
    await container.remove({ force: true });
  }
}

test("sandbox start vs bare docker run", async () => {
  const docker = dockerClient();
  const h = await createSandboxHarness();
  try {
    const image = (await h.create("bench-warm")).image;
    const sandbox: number[] = [];
    const quota: number[] = [];
    const bare: number[] = [];
    const bareNode: number[] = [];
    // As `openclaw nemoclaw sandbox create` runs it, without OpenClaw's own start: the runtime in a
    // new process per create (its start, the staged volumes trusted from the state dir's memo).
    const cli: number[] = [];
    // Interleaved, so both see the same machine state.
    for (let round = 0; round < ROUNDS; round++) {
      let started = performance.now();
      const record = await h.create("bench", { limits: { diskBytes: 0 } });
      sandbox.push(performance.now() - started);
      await h.driver.destroy(record.name);

      started = performance.now();
      const limited = await h.create("bench-quota");
      quota.push(performance.now() - started);
      await h.driver.destroy(limited.name);

      started = performance.now();
      const container = await docker.createContainer({
        name: uniqueName("bench-bare"),
        Image: image,
        Entrypoint: ["sleep", "infinity"],
        HostConfig: { NetworkMode: "none" },
      });
      await container.start();
      bare.push(performance.now() - started);
      await container.remove({ force: true });

      // Timed to the line (its removal after the clock stops, as above).
      bareNode.push(await bareNodeToFirstLine(docker, image));

      const name = uniqueName("bench-cli");
      started = performance.now();
      const created = await runRuntime({ command: "sandbox.create", stateDir: h.stateDir, name, presets: [], diskBytes: 0, openclawDir: OPENCLAW_DIR, baseImage: BASE_IMAGE });
      cli.push(performance.now() - started);
      if (created.exitCode !== 0) throw new Error(`sandbox.create in its own process failed: ${created.stderr}`);
      await h.driver.destroy(name);
    }
    const size = await imageSize(docker, image);
    const ratio = median(sandbox) / median(bare);
    const row = (xs: readonly number[]): string => `${median(xs).toFixed(0)} ms median of ${ROUNDS} (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
    console.log(
      [
        "",
        "Sandbox start (create + start → workload ready)",
        "",
        `  Sandbox, no /sandbox quota: ${row(sandbox)}`,
        `  Sandbox, 10 GiB quota (default): ${row(quota)}`,
        `  Bare docker run: ${row(bare)}`,
        `  Floor for a Node supervisor: bare docker run with Node as the entrypoint, to its first line: ${row(bareNode)} (${(median(bareNode) / median(bare)).toFixed(2)}x bare)`,
        `  Sandbox, no quota, through the runtime in a process of its own (as the CLI verb, without OpenClaw's start): ${row(cli)}`,
        `  Ratio: ${ratio.toFixed(2)}x bare without a quota (goal ≤ 1.25x, issue 13); ${(median(quota) / median(bare)).toFixed(2)}x with the default quota`,
        `  Image: ${image}, ${(size / 1024 ** 2).toFixed(1)} MiB (goal ≤ 400 MB)`,
        "",
      ].join("\n"),
    );
  } finally {
    await h.dispose();
  }
}, 600_000);
