// The sandbox driver: named sandboxes on a Docker Engine, through its API (dockerode).
//
// A sandbox is three things with one name: a state folder (<stateDir>/sandboxes/<name>/: record,
// policy, run/ with the proxy socket), a named volume (/sandbox), and a container built from
// the record. The container is disposable: `start` recreates it from the record when it is gone
// (dockerd lost it, someone removed it), and the volume carries /sandbox across.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import type Docker from "dockerode";
import { changedSections } from "../policy/schema.js";
import { RuntimeError } from "../state/runtime-error.js";
import { compiledBlueprintDir, stageSupervisor } from "../state/runtime-files.js";
import { controlRequest, daemonHealth, ensureDaemon } from "../runtime/daemon-client.js";
import { describeDockerHost } from "./docker-client.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { ensureCallerSecret } from "../state/caller-secret.js";
import { assertWorkloadUidFree, describeProxyGuard } from "./proxy-guard.js";
import { sandboxPolicyFile, sandboxRunDir } from "../state/paths.js";
import { installSandboxTrust, TRUST_ENV } from "./trust.js";
import {
  BLUEPRINT_MOUNT,
  buildContainerSpec,
  buildExecSpec,
  DEFAULT_LIMITS,
  NODE_PATH,
  PROXY_URL,
  RUNTIME_DIR,
  SANDBOX_LABEL,
  sandboxContainerName,
  sandboxVolumeName,
  SUPERVISOR_SCRIPT,
  workloadEnv,
  type SandboxLimits,
} from "./container-spec.js";
import { buildSandboxImage, imageExists, ImageBuildError, type ImageBuildEvent } from "./image.js";
import { parseSandboxName, SandboxRegistry, type SandboxRecord } from "./registry.js";
import { composePolicy, policyText, readStoredPolicy, sandboxSettings, staticChanges, staticSections } from "./sandbox-policy.js";

export type Progress = (step: string, message: string, percent?: number) => void;

/** Where the host's OpenClaw appears inside. */
export const OPENCLAW_MOUNT = "/opt/openclaw";
/** The default workload until launch interception runs `openclaw gateway`: idle, forever. */
export const IDLE_COMMAND = ["sleep", "infinity"];
const READY_MARKER = "nemoclaw-supervisor: workload started";
const READY_TIMEOUT_MS = 20_000;
const STATE_DIR_LABEL = "nemoclaw.state-dir";

export interface DriverOptions {
  docker: Docker;
  stateDir: string;
  dockerHost?: string | undefined;
}

export interface CreateOptions {
  name: string;
  baseImage: string;
  /** --policy FILE; default the shipped base policy. */
  policyFile?: string | undefined;
  presets?: readonly string[];
  limits?: Partial<SandboxLimits>;
  /** Root of the host's `openclaw` package, mounted read-only. */
  openclawDir?: string | undefined;
  command?: readonly string[];
  env?: Readonly<Record<string, string>>;
}

export type ContainerState = "running" | "stopped" | "missing";

export interface SandboxSummary {
  name: string;
  state: ContainerState;
  image: string;
  createdAt: string;
  presets: string[];
  openclaw: string | null;
}

export interface ExecIo {
  stdin?: Readable | undefined;
  stdout: Writable;
  stderr: Writable;
  tty?: boolean;
  /** Called with the exec once it runs, and on every terminal resize. */
  onResize?: (resize: (size: { h: number; w: number }) => Promise<void>) => void;
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { statusCode?: unknown }).statusCode === 404;
}

/** How the host's OpenClaw is mounted: its package folder, or the node_modules holding it and its hoisted dependencies. */
export async function openclawMount(hostDir: string): Promise<{ source: string; target: string; entry: string; version: string }> {
  const pkgFile = path.join(hostDir, "package.json");
  if (!existsSync(pkgFile)) throw new RuntimeError("openclaw-missing", `no OpenClaw package at ${hostDir}`, "reinstall OpenClaw");
  const pkg = JSON.parse(await readFile(pkgFile, "utf8")) as { name?: string; version?: string; bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === "string" ? pkg.bin : (pkg.bin?.openclaw ?? "openclaw.mjs");
  const parent = path.dirname(hostDir);
  // npm hoists OpenClaw's dependencies next to it; mounting only its folder would leave them out.
  const hoisted = path.basename(parent) === "node_modules";
  const packageTarget = path.posix.join(OPENCLAW_MOUNT, "node_modules", path.basename(hostDir));
  return {
    source: hoisted ? parent : hostDir,
    target: hoisted ? path.posix.join(OPENCLAW_MOUNT, "node_modules") : packageTarget,
    entry: path.posix.join(packageTarget, bin),
    version: pkg.version ?? "unknown",
  };
}

export class SandboxDriver {
  readonly docker: Docker;
  readonly stateDir: string;
  readonly registry: SandboxRegistry;
  readonly #dockerHost: string | undefined;

  constructor(options: DriverOptions) {
    this.docker = options.docker;
    this.stateDir = path.resolve(options.stateDir);
    this.registry = new SandboxRegistry(this.stateDir);
    this.#dockerHost = options.dockerHost;
  }

  /** Fails with how to start Docker when the engine does not answer. */
  async assertDocker(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (e) {
      throw new RuntimeError(
        "docker-unreachable",
        `Docker is not reachable at ${describeDockerHost(this.#dockerHost)}: ${(e as Error).message}`,
        "start Docker (`sudo systemctl start docker`, or `sudo dockerd --bridge=none &`), or set plugins.entries.nemoclaw.config.dockerHost",
      );
    }
  }

  async #inspect(name: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(sandboxContainerName(name)).inspect();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async containerState(name: string): Promise<ContainerState> {
    const info = await this.#inspect(name);
    return !info ? "missing" : info.State.Running ? "running" : "stopped";
  }

  // ── create ─────────────────────────────────────────────────────────────────────────────

  async create(options: CreateOptions, progress: Progress = () => {}): Promise<SandboxRecord> {
    const name = parseSandboxName(options.name);
    await this.assertDocker();
    if (await this.registry.exists(name)) {
      throw new RuntimeError("sandbox-exists", `a sandbox named "${name}" already exists`, `use it (\`openclaw nemoclaw ${name} start\`) or pick another name`);
    }
    if (await this.#inspect(name)) {
      throw new RuntimeError(
        "container-exists",
        `a container named ${sandboxContainerName(name)} exists but no sandbox "${name}" is recorded in ${this.stateDir}`,
        `it belongs to another nemoclaw state directory or was left behind; remove it (\`docker rm -f ${sandboxContainerName(name)}\`) or pick another name`,
      );
    }
    const volumeName = sandboxVolumeName(name);
    if (await this.docker.getVolume(volumeName).inspect().then(() => true, () => false)) {
      throw new RuntimeError(
        "volume-exists",
        `the volume ${volumeName} already exists: it may hold another sandbox's /sandbox`,
        `remove it (\`docker volume rm ${volumeName}\`) if you do not need it, or pick another name`,
      );
    }

    progress("policy", options.policyFile ? `loading ${options.policyFile}` : "loading the base policy");
    const presets = [...(options.presets ?? [])];
    const { policy } = await composePolicy(options.policyFile, presets);
    const settings = sandboxSettings(policy);

    progress("image", `sandbox image on ${options.baseImage}`);
    const image = await this.#ensureImage(options.baseImage, progress);

    const mounts: Array<{ source: string; target: string }> = [];
    let openclaw: SandboxRecord["openclaw"] = null;
    if (options.openclawDir) {
      const m = await openclawMount(path.resolve(options.openclawDir));
      mounts.push({ source: m.source, target: m.target });
      openclaw = { hostDir: path.resolve(options.openclawDir), version: m.version, entry: m.entry };
    }
    const record: SandboxRecord = {
      version: 1,
      name,
      createdAt: new Date().toISOString(),
      image,
      baseImage: options.baseImage,
      policySource: options.policyFile ? path.resolve(options.policyFile) : "base",
      presets,
      appliedStatic: staticSections(policy),
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      user: settings.user,
      landlock: settings.landlock,
      mounts,
      openclaw,
      command: [...(options.command ?? IDLE_COMMAND)],
      env: { ...options.env },
    };

    let volumeCreated = false;
    try {
      progress("state", `recording the sandbox in ${this.registry.stateDir}`);
      await this.registry.prepare(name);
      await writeFileAtomic(sandboxPolicyFile(this.stateDir, name), policyText(policy, name, record.policySource, presets));
      await this.registry.write(record);
      progress("daemon", "starting the egress path (host daemon)");
      await this.#serve(name);
      await this.docker.createVolume({ Name: volumeName, Labels: { [SANDBOX_LABEL]: name, [STATE_DIR_LABEL]: this.stateDir } });
      volumeCreated = true;
      progress("container", `creating ${sandboxContainerName(name)}`);
      await this.#createContainer(record);
      progress("start", "starting the supervisor and the workload");
      await this.#startAndWait(name);
      if (record.openclaw) {
        progress("openclaw", "routing OpenClaw's own traffic through the egress gateway (proxy.proxyUrl)");
        await this.#seedOpenclawConfig(name);
      }
      return record;
    } catch (e) {
      // Nothing half-made is left behind: a failed create leaves no state, container or volume.
      await this.docker.getContainer(sandboxContainerName(name)).remove({ force: true }).catch(() => undefined);
      if (volumeCreated) await this.docker.getVolume(volumeName).remove().catch(() => undefined);
      await this.#release(name);
      await this.registry.remove(name);
      throw e;
    }
  }

  /**
   * The sandbox's own OpenClaw config (~/.openclaw/openclaw.json under /sandbox): its fetch, http and
   * WebSocket clients use the forwarder. Written once, as the workload; an existing file is left alone.
   */
  async #seedOpenclawConfig(name: string): Promise<void> {
    const config = `// Written by nemoclaw when the sandbox was created. OpenClaw's own HTTP and WebSocket\n// traffic goes through the sandbox's forwarder to the host's egress gateway.\n${JSON.stringify({ proxy: { proxyUrl: PROXY_URL } }, null, 2)}\n`;
    const sink = new PassThrough().resume();
    const code = await this.exec(name, ["sh", "-c", 'test -e "$HOME/.openclaw/openclaw.json" || { mkdir -p "$HOME/.openclaw" && cat > "$HOME/.openclaw/openclaw.json"; }'], {
      stdin: PassThrough.from([Buffer.from(config)]),
      stdout: sink,
      stderr: sink,
    });
    if (code !== 0) throw new RuntimeError("openclaw-config", `could not write OpenClaw's config inside ${name} (exit ${code})`, "check `openclaw nemoclaw <name> logs`");
  }

  async #ensureImage(baseImage: string, progress: Progress): Promise<string> {
    try {
      let lastPercent = -1;
      const { tag, built } = await buildSandboxImage({
        docker: this.docker,
        baseImage,
        onProgress: (event: ImageBuildEvent) => {
          if (event.type === "step") {
            const percent = Math.round(((event.index - 1) / event.total) * 100);
            if (percent !== lastPercent) progress("image", `step ${event.index}/${event.total}: ${event.instruction}`, percent);
            lastPercent = percent;
          } else if (event.type === "done") progress("image", `built ${event.tag}`, 100);
        },
      });
      if (!built) progress("image", `reusing ${tag}`, 100);
      return tag;
    } catch (e) {
      if (e instanceof ImageBuildError) {
        throw new RuntimeError(
          "image-build-failed",
          `the sandbox image did not build${e.step ? ` at ${e.step}` : ""}`,
          `fix the cause in the log above; is the base image ${baseImage} present (\`docker image ls\`) and the Debian mirror reachable?`,
          [e.message.split("\n")[0] ?? "", ...e.logTail],
        );
      }
      if (isNotFound(e) || /pull access denied|not found|manifest unknown/i.test((e as Error).message)) {
        throw new RuntimeError("base-image-missing", `the base image ${baseImage} is not available: ${(e as Error).message}`, "build it with scripts/build-base-image.sh or set plugins.entries.nemoclaw.config.baseImage");
      }
      throw e;
    }
  }

  /**
   * The record's mounts (OpenClaw) plus the supervisor (this build's staged copy) at
   * /opt/nemoclaw and the sandbox's run/ folder (the proxy socket) at /run/nemoclaw.
   */
  #mounts(record: SandboxRecord, supervisorDir: string): Array<{ source: string; target: string }> {
    return [
      { source: supervisorDir, target: BLUEPRINT_MOUNT },
      ...record.mounts,
      { source: sandboxRunDir(this.stateDir, record.name), target: RUNTIME_DIR },
    ];
  }

  async #createContainer(record: SandboxRecord): Promise<void> {
    await assertWorkloadUidFree(this.docker, record.user);
    await installSandboxTrust(this.stateDir, record.name);
    await this.docker.createContainer(this.#spec(record, await stageSupervisor(this.stateDir), await ensureCallerSecret(this.stateDir, record.name)));
  }

  #spec(record: SandboxRecord, supervisorDir: string, callerSecret: string): Docker.ContainerCreateOptions {
    return buildContainerSpec({
      name: record.name,
      image: record.image,
      command: record.command,
      landlock: record.landlock,
      user: record.user,
      mounts: this.#mounts(record, supervisorDir),
      env: { ...TRUST_ENV, ...record.env },
      limits: record.limits,
      supervisor: { script: SUPERVISOR_SCRIPT, callerSecret },
      labels: { [STATE_DIR_LABEL]: this.stateDir },
    });
  }

  async #serve(name: string): Promise<void> {
    await ensureDaemon(this.stateDir);
    await controlRequest(this.stateDir, "POST", "/sandboxes/serve", { name });
  }

  async #release(name: string): Promise<void> {
    if (await daemonHealth(this.stateDir).catch(() => undefined)) {
      await controlRequest(this.stateDir, "POST", "/sandboxes/release", { name }).catch(() => undefined);
    }
  }

  /** Starts the container and resolves once the supervisor has started the workload. */
  async #startAndWait(name: string): Promise<void> {
    const container = this.docker.getContainer(sandboxContainerName(name));
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
      const tail = await this.#logTail(name, 15);
      if (outcome === "timeout") {
        throw new RuntimeError("start-timeout", `sandbox ${name} did not report its workload started within ${READY_TIMEOUT_MS / 1000} s`, `see \`openclaw nemoclaw ${name} logs\``, tail);
      }
      throw new RuntimeError("start-failed", `sandbox ${name} exited while starting (exit code ${outcome.exited})`, "the lines below are its last output", tail);
    } finally {
      waiting.abort();
      stream.destroy();
    }
  }

  async #logTail(name: string, lines: number): Promise<string[]> {
    try {
      const buffer = (await this.docker.getContainer(sandboxContainerName(name)).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
      return demuxText(buffer).trim().split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  // ── list / status ──────────────────────────────────────────────────────────────────────

  async list(): Promise<SandboxSummary[]> {
    const names = await this.registry.names();
    const out: SandboxSummary[] = [];
    for (const name of names) {
      const record = await this.registry.get(name);
      out.push({
        name,
        state: await this.containerState(name).catch(() => "missing" as const),
        image: record.image,
        createdAt: record.createdAt,
        presets: record.presets,
        openclaw: record.openclaw?.version ?? null,
      });
    }
    return out;
  }

  async status(name: string): Promise<SandboxStatus> {
    const record = await this.registry.get(name);
    await this.assertDocker();
    const info = await this.#inspect(name);
    const health = await daemonHealth(this.stateDir).catch(() => undefined);
    const base: SandboxStatus = {
      name,
      state: !info ? "missing" : info.State.Running ? "running" : "stopped",
      container: info?.Id.slice(0, 12) ?? null,
      startedAt: info?.State.Running ? info.State.StartedAt : null,
      image: record.image,
      openclaw: record.openclaw ? `${record.openclaw.version} (${record.openclaw.hostDir}, read-only)` : null,
      policy: { source: record.policySource, presets: record.presets, file: sandboxPolicyFile(this.stateDir, name) },
      egress: health?.sandboxes.includes(name) ? `daemon pid ${health.pid} serving proxy.sock (${health.egress})` : "not served: egress is closed",
      proxyGuard: await describeProxyGuard(this.docker, this.stateDir, name, record.user),
      limits: {
        memoryBytes: info?.HostConfig.Memory ?? record.limits.memoryBytes,
        nanoCpus: info?.HostConfig.NanoCpus ?? record.limits.nanoCpus,
        pids: info?.HostConfig.PidsLimit ?? record.limits.pids,
        tmpfsBytes: record.limits.tmpfsBytes,
      },
      inside: null,
    };
    if (base.state !== "running") return base;
    // The script's text goes in as an argument rather than being run from /opt/nemoclaw: a
    // plugin upgrade replaces that folder on the host, and a running container keeps seeing the
    // old (deleted) one until it restarts.
    const script = await readFile(path.join(compiledBlueprintDir(), "supervisor", "inspect.js"), "utf8");
    const out = await this.execCapture(name, [NODE_PATH, "--input-type=module", "-e", script]);
    if (out.exitCode !== 0) {
      throw new RuntimeError("status-failed", `could not read the layers inside ${name} (exit ${out.exitCode})`, undefined, out.stderr.trim().split("\n"));
    }
    return { ...base, inside: JSON.parse(out.stdout) as InsideReport };
  }

  // ── start / stop / destroy ─────────────────────────────────────────────────────────────

  /** Starts a stopped sandbox; recreates its container from the record when it is gone. */
  async start(name: string, progress: Progress = () => {}): Promise<{ recreated: boolean; alreadyRunning: boolean }> {
    const record = await this.registry.get(name);
    await this.assertDocker();
    const policyFile = sandboxPolicyFile(this.stateDir, name);
    const changed = staticChanges(record.appliedStatic, readStoredPolicy(await readFile(policyFile, "utf8"), policyFile));
    if (changed.length > 0) {
      throw new RuntimeError(
        "recreate-needed",
        `the static part of ${policyFile} changed (${changed.join(", ")}) since sandbox ${name} was created: recreate needed`,
        `these sections are applied when the container is created; destroy and create the sandbox again (its /sandbox volume goes with it), or restore the file`,
      );
    }
    progress("daemon", "making sure the host daemon serves the egress path");
    await this.#serve(name);
    const info = await this.#inspect(name);
    if (info?.State.Running) return { recreated: false, alreadyRunning: true };
    let recreated = false;
    if (!info) {
      if (!(await imageExists(this.docker, record.image))) await this.#ensureImage(record.baseImage, progress);
      progress("container", `recreating ${sandboxContainerName(name)} from ${this.stateDir} (volume ${sandboxVolumeName(name)} kept)`);
      await this.#createContainer(record);
      recreated = true;
    }
    progress("start", "starting the supervisor and the workload");
    await this.#startAndWait(name);
    return { recreated, alreadyRunning: false };
  }

  async stop(name: string): Promise<{ wasRunning: boolean }> {
    await this.registry.get(name);
    await this.assertDocker();
    const info = await this.#inspect(name);
    if (!info?.State.Running) return { wasRunning: false };
    await this.docker.getContainer(sandboxContainerName(name)).stop({ t: 10 });
    return { wasRunning: true };
  }

  async destroy(name: string): Promise<{ removed: string[] }> {
    await this.registry.get(name);
    await this.assertDocker();
    const removed: string[] = [];
    try {
      await this.docker.getContainer(sandboxContainerName(name)).remove({ force: true });
      removed.push(`container ${sandboxContainerName(name)}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    try {
      await this.docker.getVolume(sandboxVolumeName(name)).remove();
      removed.push(`volume ${sandboxVolumeName(name)}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.#release(name);
    await this.registry.remove(name);
    removed.push(`state ${path.join(this.stateDir, "sandboxes", name)}`);
    return { removed };
  }

  // ── policy ─────────────────────────────────────────────────────────────────────────────

  /**
   * Replaces the sandbox's policy. Only the network part may change on an existing sandbox;
   * a changed static part is refused and nothing is written.
   */
  async applyPolicy(name: string, file: string, presets: readonly string[]): Promise<{ changed: string[] }> {
    const record = await this.registry.get(name);
    const { policy } = await composePolicy(file, presets);
    const changed = staticChanges(record.appliedStatic, policy);
    if (changed.length > 0) {
      throw new RuntimeError(
        "recreate-needed",
        `${file} changes ${changed.join(", ")} of sandbox ${name}: recreate needed`,
        "those sections are fixed when the sandbox is created; nothing was applied. Keep them as they are, or destroy and create the sandbox with the new policy",
      );
    }
    const target = sandboxPolicyFile(this.stateDir, name);
    const before = readStoredPolicy(await readFile(target, "utf8"), target);
    await writeFileAtomic(target, policyText(policy, name, path.resolve(file), presets));
    await this.registry.write({ ...record, policySource: path.resolve(file), presets: [...presets] });
    return { changed: changedSections(before, policy).dynamic };
  }

  // ── exec / logs ────────────────────────────────────────────────────────────────────────

  async #running(name: string): Promise<{ record: SandboxRecord; container: Docker.Container }> {
    const record = await this.registry.get(name);
    await this.assertDocker();
    const info = await this.#inspect(name);
    if (!info?.State.Running) {
      throw new RuntimeError("not-running", `sandbox ${name} is not running`, `start it: \`openclaw nemoclaw ${name} start\``);
    }
    return { record, container: this.docker.getContainer(sandboxContainerName(name)) };
  }

  /** Runs a command inside as the workload (launcher, Landlock, uid 1000); resolves with its exit code. */
  async exec(name: string, command: readonly string[], io: ExecIo): Promise<number> {
    const { record, container } = await this.#running(name);
    const tty = io.tty ?? false;
    const exec = await container.exec(
      buildExecSpec({
        command,
        // The same lists as the workload's (buildContainerSpec adds the mount targets the same way).
        landlock: { ...record.landlock, readOnly: [...record.landlock.readOnly, ...this.#mounts(record, "/").map((m) => m.target)] },
        user: record.user,
        env: { ...workloadEnv({ ...TRUST_ENV, ...record.env }, { proxy: true }), ...(tty ? { TERM: process.env.TERM ?? "xterm" } : {}) },
        tty,
        stdin: io.stdin !== undefined,
      }),
    );
    const stream = await exec.start({ hijack: true, stdin: io.stdin !== undefined, Tty: tty });
    const finished = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", resolve);
    });
    if (tty) stream.pipe(io.stdout, { end: false });
    else this.docker.modem.demuxStream(stream, io.stdout, io.stderr);
    if (io.stdin) {
      io.stdin.on("data", (chunk: Buffer) => stream.write(chunk));
      io.stdin.on("end", () => (stream as unknown as { end(): void }).end());
    }
    io.onResize?.((size) => exec.resize(size).then(() => undefined));
    await finished;
    for (let i = 0; i < 100; i++) {
      const state = await exec.inspect();
      if (!state.Running) return state.ExitCode ?? 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return 1;
  }

  /** exec with the output collected. */
  async execCapture(name: string, command: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
    out.on("data", (c: Buffer) => chunks.out.push(c));
    err.on("data", (c: Buffer) => chunks.err.push(c));
    const exitCode = await this.exec(name, command, { stdout: out, stderr: err });
    await new Promise((resolve) => setImmediate(resolve));
    return { exitCode, stdout: Buffer.concat(chunks.out).toString("utf8"), stderr: Buffer.concat(chunks.err).toString("utf8") };
  }

  /** The container's output (the supervisor's and the workload's); with follow, until the container stops or `signal` aborts. */
  async logs(name: string, options: { follow: boolean; tail?: number; stdout: Writable; stderr: Writable; signal?: AbortSignal }): Promise<void> {
    await this.registry.get(name);
    await this.assertDocker();
    if (!(await this.#inspect(name))) {
      throw new RuntimeError("not-created", `sandbox ${name} has no container yet`, `start it: \`openclaw nemoclaw ${name} start\``);
    }
    const container = this.docker.getContainer(sandboxContainerName(name));
    if (!options.follow) {
      const buffer = (await container.logs({ stdout: true, stderr: true, follow: false, ...(options.tail ? { tail: options.tail } : {}) })) as unknown as Buffer;
      demuxInto(buffer, options.stdout, options.stderr);
      return;
    }
    const stream = (await container.logs({ stdout: true, stderr: true, follow: true, ...(options.tail ? { tail: options.tail } : {}) })) as unknown as Readable;
    this.docker.modem.demuxStream(stream, options.stdout, options.stderr);
    await new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
      options.signal?.addEventListener("abort", () => {
        stream.destroy();
        resolve();
      });
    });
  }
}

export interface LayerReport {
  pid: number;
  argv: string[];
  uid: number;
  gid: number;
  seccomp: number;
  seccompFilters: number;
  noNewPrivs: number;
  capEff: string;
  capPrm: string;
  capInh: string;
  capBnd: string;
  capAmb: string;
}

/** What blueprint/supervisor/inspect.ts reports from inside. */
export interface InsideReport {
  supervisor: LayerReport | null;
  workload: LayerReport | null;
  self: LayerReport;
  landlock: { abi: number; probe: string; write: string };
  mounts: Array<{ target: string; type: string; options: string }>;
  proxySocket: { present: boolean; mode?: string; uid?: number; error?: string };
  environ: { supervisor: string };
}

export interface SandboxStatus {
  name: string;
  state: ContainerState;
  container: string | null;
  startedAt: string | null;
  image: string;
  openclaw: string | null;
  policy: { source: string; presets: string[]; file: string };
  egress: string;
  /** What keeps the workload off proxy.sock (proxy-guard.ts). */
  proxyGuard: string;
  limits: SandboxLimits;
  inside: InsideReport | null;
}

/** Docker's multiplexed log format (8-byte frame headers) to text; plain text passes through. */
function demuxFrames(buffer: Buffer): Array<{ stream: number; data: Buffer }> {
  const frames: Array<{ stream: number; data: Buffer }> = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const type = buffer[offset] ?? 0;
    if (type > 2 || buffer[offset + 1] !== 0 || buffer[offset + 2] !== 0 || buffer[offset + 3] !== 0) {
      return [{ stream: 1, data: buffer }];
    }
    const size = buffer.readUInt32BE(offset + 4);
    frames.push({ stream: type, data: buffer.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  return frames;
}

function demuxText(buffer: Buffer): string {
  return demuxFrames(buffer).map((f) => f.data.toString("utf8")).join("");
}

function demuxInto(buffer: Buffer, stdout: Writable, stderr: Writable): void {
  for (const frame of demuxFrames(buffer)) (frame.stream === 2 ? stderr : stdout).write(frame.data);
}

