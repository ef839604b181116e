// The sandbox image, built through the Engine API on the local base image,
// and a container created from the product's spec.
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm, appendFile } from "node:fs/promises";
import os from "node:os";
import { PassThrough } from "node:stream";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildSandboxImage,
  ImageBuildError,
  imageExists,
  imageSize,
  LAUNCHER_PATH,
  sandboxImageTag,
  type ImageBuildEvent,
} from "../../blueprint/sandbox/image.js";
import { BASE_IMAGE, dockerClient, ensureBaseImage, ensureSandboxImage } from "../helpers/docker-images.js";
import { runInSandbox } from "../helpers/docker-run.js";
import { buildExecSpec } from "../../blueprint/sandbox/container-spec.js";
import { compiledBlueprintDir } from "../../blueprint/state/runtime-files.js";

const docker = dockerClient();
let image: string;
let execOutput = "";

beforeAll(async () => {
  const base = await ensureBaseImage(docker);
  const started = performance.now();
  image = await ensureSandboxImage(docker);
  console.log(
    `base image ${base.tag} ready in ${base.seconds.toFixed(1)} s; sandbox image ${image} ready in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}, 900_000);

describe("sandbox image", () => {
  it("is tagged by a hash of its build context and base image", async () => {
    expect(image).toMatch(/^nemoclaw-sandbox:[0-9a-f]{12}$/);
    expect(await sandboxImageTag({ baseImage: BASE_IMAGE })).toBe(image);
    expect(await sandboxImageTag({ baseImage: "node:24-bookworm-slim" })).not.toBe(image);
    expect(await imageExists(docker, image)).toBe(true);
    expect(await imageExists(docker, "nemoclaw-sandbox:does-not-exist")).toBe(false);
  });

  it("is reused, not rebuilt, when the context is unchanged", async () => {
    const again = await buildSandboxImage({ docker, baseImage: BASE_IMAGE });
    expect(again).toEqual({ tag: image, built: false });
  });

  it("stays under 400 MB", async () => {
    const size = await imageSize(docker, image);
    console.log(`sandbox image size: ${(size / 1024 ** 2).toFixed(1)} MiB (base ${((await imageSize(docker, BASE_IMAGE)) / 1024 ** 2).toFixed(1)} MiB)`);
    expect(size).toBeLessThanOrEqual(400 * 1000 * 1000);
  });

  it("reports build progress step by step", async () => {
    // A forced build into a repository of its own, so it emits its steps whether or not the
    // shared image already existed (the layer cache keeps it quick).
    const repository = `nemoclaw-progress-${randomBytes(4).toString("hex")}`;
    const progress: ImageBuildEvent[] = [];
    const built = await buildSandboxImage({ docker, baseImage: BASE_IMAGE, repository, force: true, onProgress: (e) => progress.push(e) });
    try {
      expect(built).toEqual({ tag: `${repository}:${image.split(":")[1]}`, built: true });
      const steps = progress.flatMap((e) => (e.type === "step" ? [e] : []));
      // Every step, in order, once: 1/N … N/N, the FROM among them.
      expect(steps.map((e) => `${e.index}/${e.total}`)).toEqual(Array.from({ length: steps[0]?.total ?? 0 }, (_, i) => `${i + 1}/${steps[0]?.total}`));
      expect(steps.length).toBeGreaterThan(1);
      expect(steps.some((e) => e.instruction.startsWith("FROM "))).toBe(true);
      expect(progress.at(-1)).toMatchObject({ type: "done", tag: built.tag });
    } finally {
      await docker.getImage(built.tag).remove().catch(() => undefined);
    }
  }, 600_000);

  it("holds the launcher, which sees Landlock in a sandbox container", async () => {
    const result = await runInSandbox(docker, image, [LAUNCHER_PATH, "--abi"], { landlock: false });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const abi = Number(result.stdout.trim());
    console.log(`Landlock ABI inside the sandbox: ${abi}`);
    expect(abi).toBeGreaterThanOrEqual(1);
  });

  it("runs the workload as the sandbox user under Landlock, seccomp and no-new-privileges", async () => {
    const result = await runInSandbox(docker, image, [
      "sh",
      "-c",
      "id -u; id -g; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; echo $NEMOCLAW_SANDBOX $HOME",
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^1000\n1000\nCapEff:\s+0+\nNoNewPrivs:\s+1\nSeccomp:\s+2\n1 \/sandbox\n$/);
  });

  it("confines a command exec'd into a live sandbox like the workload", async () => {
    const status = "id -u; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; touch /etc/x 2>&1; touch /dev/shm/x 2>&1; true";
    const result = await runInSandbox(docker, image, ["sleep", "30"], {
      whileRunning: async (container) => {
        const exec = await container.exec(buildExecSpec({ command: ["sh", "-c", status] }));
        const stream = await exec.start({});
        const chunks: Buffer[] = [];
        const sink = new PassThrough().on("data", (c: Buffer) => chunks.push(c));
        docker.modem.demuxStream(stream, sink, sink);
        await new Promise((resolve) => stream.on("end", resolve));
        execOutput = Buffer.concat(chunks).toString("utf8");
        await container.kill();
      },
    });
    // `sleep` ends by the container.kill() above (SIGKILL): 128 + 9.
    expect(result.exitCode).toBe(137);
    expect(execOutput).toMatch(/^1000\nCapEff:\s+0+\nNoNewPrivs:\s+1\nSeccomp:\s+2\n/);
    expect(execOutput).toMatch(/'\/etc\/x': Read-only file system/);
    expect(execOutput).toMatch(/'\/dev\/shm\/x': Permission denied/);
  });

  it("carries no setuid or setgid binaries", async () => {
    const result = await runInSandbox(docker, image, ["find", "/", "-xdev", "-perm", "/6000", "-type", "f"], {
      landlock: false,
    });
    expect(result.stdout).toBe("");
  });
});

describe("image build failure", () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("names the failing step and carries the log tail", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-broken-"));
    await cp(compiledBlueprintDir(), dir, { recursive: true });
    await appendFile(path.join(dir, "Dockerfile"), "RUN echo 'about to fail' && exit 3\n");
    const error = await buildSandboxImage({ docker, baseImage: BASE_IMAGE, blueprintDir: dir, repository: "nemoclaw-broken" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImageBuildError);
    const buildError = error as ImageBuildError;
    expect(buildError.step).toMatch(/^step \d+\/\d+ \(RUN echo 'about to fail' && exit 3\)$/);
    expect(buildError.logTail).toContain("about to fail");
    expect(buildError.message).toMatch(/returned a non-zero code: 3/);
  }, 600_000);
});
