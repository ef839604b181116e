// Runs one command in a real sandbox container built from the product's
// container spec, waits for it, and returns what happened. Each run gets its
// own sandbox name and volume, removed afterwards. Unless a case says otherwise, Landlock gets
// the shipped policy's lists (not the spec builder's fallback), as a real sandbox does.
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { buildContainerSpec, type SandboxSpecOptions } from "../../blueprint/sandbox/container-spec.js";
import { SHIPPED_LANDLOCK } from "./shipped-policy.js";

export interface RunResult {
  exitCode: number;
  oomKilled: boolean;
  stdout: string;
  stderr: string;
  /** create + start until the container exited. */
  ms: number;
}

export interface RunOptions extends Omit<SandboxSpecOptions, "name" | "image" | "command"> {
  name?: string;
  /** Applied to the product spec, for control cases that relax one setting. */
  tweak?: (spec: Docker.ContainerCreateOptions) => void;
  timeoutMs?: number;
  /** Called while the container runs, e.g. to observe it from the host. */
  whileRunning?: (container: Docker.Container) => Promise<void>;
}

export function uniqueName(prefix = "t"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export async function runInSandbox(
  docker: Docker,
  image: string,
  command: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const { tweak, timeoutMs = 30_000, whileRunning, name = uniqueName(), ...specOptions } = options;
  const spec = buildContainerSpec({ landlock: SHIPPED_LANDLOCK, ...specOptions, name, image, command });
  tweak?.(spec);

  const started = performance.now();
  const container = await docker.createContainer(spec);
  const volume = spec.HostConfig?.Mounts?.find((m) => m.Target === "/sandbox")?.Source;
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out = collect();
    const err = collect();
    docker.modem.demuxStream(stream, out.sink, err.sink);

    await container.start();
    const waiting = container.wait();
    const timer = setTimeout(() => void container.kill().catch(() => undefined), timeoutMs);
    try {
      await whileRunning?.(container);
      await waiting;
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - started;
    const info = await container.inspect();
    // The attach stream may still be draining the last bytes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return {
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
      stdout: out.text(),
      stderr: err.text(),
      ms,
    };
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    if (volume) await docker.getVolume(volume).remove().catch(() => undefined);
  }
}

function collect(): { sink: PassThrough; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { sink, text: () => Buffer.concat(chunks).toString("utf8") };
}

/** Runs a Node snippet in the sandbox: `node -e <code>`. */
export function runNode(docker: Docker, image: string, code: string, options: RunOptions = {}): Promise<RunResult> {
  return runInSandbox(docker, image, ["node", "-e", code], options);
}

/** Runs a shell snippet in the sandbox: `sh -c <script>`. */
export function runShell(docker: Docker, image: string, script: string, options: RunOptions = {}): Promise<RunResult> {
  return runInSandbox(docker, image, ["sh", "-c", script], options);
}
