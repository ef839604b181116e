// The sandbox container's streams: commands run inside as the workload (exec), the container's
// own output (logs), and the wait for the supervisor's "workload started" line. Docker
// multiplexes stdout and stderr on one stream; dockerode's demuxStream splits it everywhere.
import { PassThrough, Readable, type Writable } from "node:stream";
import type Docker from "dockerode";
import { RuntimeError } from "../state/runtime-error.js";

const READY_MARKER = "nemoclaw-supervisor: workload started";
const READY_TIMEOUT_MS = 20_000;

export interface ExecIo {
  stdin?: Readable | undefined;
  stdout: Writable;
  stderr: Writable;
  tty?: boolean;
  /** Called with the exec once it runs, and on every terminal resize. */
  onResize?: (resize: (size: { h: number; w: number }) => Promise<void>) => void;
}

export interface LogsOptions {
  follow: boolean;
  tail?: number;
  /** Only output since this time (unix seconds): one container run's, not earlier runs'. */
  since?: number;
  stdout: Writable;
  stderr: Writable;
  signal?: AbortSignal;
}

/** Resolves when the stream has ended, closed or failed (whichever first). */
function settled(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise<void>((resolve) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
}

/** Runs an exec spec (see buildExecSpec) in `container`; resolves with its exit code. */
export async function runExec(docker: Docker, container: Docker.Container, spec: Docker.ExecCreateOptions, io: ExecIo): Promise<number> {
  const tty = io.tty ?? false;
  const exec = await container.exec(spec);
  const stream = await exec.start({ hijack: true, stdin: io.stdin !== undefined, Tty: tty });
  const finished = settled(stream);
  if (tty) stream.pipe(io.stdout, { end: false });
  else docker.modem.demuxStream(stream, io.stdout, io.stderr);
  if (io.stdin) {
    io.stdin.on("data", (chunk: Buffer) => stream.write(chunk));
    io.stdin.on("end", () => (stream as unknown as { end(): void }).end());
  }
  io.onResize?.((size) => exec.resize(size).then(() => undefined));
  await finished;
  // The stream ends a moment before the engine records the exit code.
  for (let i = 0; i < 100; i++) {
    const state = await exec.inspect();
    if (!state.Running) return state.ExitCode ?? 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return 1;
}

/** `run` with stdout and stderr collected as text. */
export async function captureOutput(run: (io: ExecIo) => Promise<number>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on("data", (c: Buffer) => chunks.out.push(c));
  err.on("data", (c: Buffer) => chunks.err.push(c));
  const exitCode = await run({ stdout: out, stderr: err });
  await new Promise((resolve) => setImmediate(resolve));
  return { exitCode, stdout: Buffer.concat(chunks.out).toString("utf8"), stderr: Buffer.concat(chunks.err).toString("utf8") };
}

/** Runs a command inside with `input` on its stdin; its stdout (trimmed) and stderr. */
export async function execWithInput(exec: (command: readonly string[], io: ExecIo) => Promise<number>, command: readonly string[], input: string): Promise<{ code: number; out: string; err: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
  const code = await exec(command, { stdin: PassThrough.from([Buffer.from(input)]), stdout, stderr });
  return { code, out: Buffer.concat(out).toString("utf8").trim(), err: Buffer.concat(err).toString("utf8").trim() };
}

/** The container's output (the supervisor's and the workload's); with follow, until it stops or `signal` aborts. */
export async function streamLogs(docker: Docker, container: Docker.Container, options: LogsOptions): Promise<void> {
  const tail = { ...(options.tail ? { tail: options.tail } : {}), ...(options.since ? { since: options.since } : {}) };
  // Without follow the engine answers with the whole (multiplexed) log as one Buffer.
  const stream = options.follow
    ? ((await container.logs({ stdout: true, stderr: true, follow: true, ...tail })) as unknown as Readable)
    : // A byte stream (not Readable.from's object mode): demuxStream reads 8-byte headers from it.
      Readable.from([(await container.logs({ stdout: true, stderr: true, follow: false, ...tail })) as unknown as Buffer], { objectMode: false });
  const done = settled(stream);
  docker.modem.demuxStream(stream, options.stdout, options.stderr);
  options.signal?.addEventListener("abort", () => stream.destroy());
  await done;
}

/** The container's last `lines` lines of output, for an error message; none when unreadable. */
export async function logTail(docker: Docker, container: Docker.Container, lines: number): Promise<string[]> {
  try {
    // Both streams, interleaved as they came: the supervisor and the launcher report on stderr.
    const { stdout } = await captureOutput(async (io) => {
      await streamLogs(docker, container, { follow: false, tail: lines, stdout: io.stdout, stderr: io.stdout });
      return 0;
    });
    return stdout.trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Starts the container and resolves once the supervisor has started the workload. */
export async function startAndWait(docker: Docker, container: Docker.Container, name: string): Promise<void> {
  const stream = (await container.attach({ stream: true, stdout: true, stderr: true, logs: false })) as unknown as Readable;
  let seen = "";
  const ready = new Promise<void>((resolve) => {
    stream.on("data", (chunk: Buffer) => {
      seen = (seen + chunk.toString("latin1")).slice(-4096);
      if (seen.includes(READY_MARKER)) resolve();
    });
  });
  // The wait request stays open until the container exits; it is aborted once the workload is up.
  const waiting = new AbortController();
  try {
    await container.start();
    const exited = container
      .wait({ abortSignal: waiting.signal })
      .then((r: { StatusCode: number }) => r.StatusCode, () => new Promise<number>(() => {}));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => "ready" as const),
      exited.then((code) => ({ exited: code })),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), READY_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (outcome === "ready") return;
    const tail = await logTail(docker, container, 15);
    if (outcome === "timeout") {
      throw new RuntimeError("start-timeout", `sandbox ${name} did not report its workload started within ${READY_TIMEOUT_MS / 1000} s`, `see \`openclaw nemoclaw ${name} logs\``, tail);
    }
    throw new RuntimeError("start-failed", `sandbox ${name} exited while starting (exit code ${outcome.exited})`, "the lines below are its last output", tail);
  } finally {
    waiting.abort();
    stream.destroy();
  }
}
