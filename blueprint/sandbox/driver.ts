// The sandbox driver: named sandboxes on a Docker Engine, through its API (dockerode). This file
// is their lifecycle (create, start — recreating when needed —, stop, destroy) and policy
// changes; what create decides first is in sandbox-plan.ts, the container it makes in
// sandbox-container.ts, the container's streams in container-io.ts, status in status.ts.
//
// A sandbox is, with one name: a state folder (<stateDir>/sandboxes/<name>/: record, policy), a
// run dir (the proxy socket, see state/paths.ts), a volume for /sandbox (with a quota: an ext4
// image in a second volume, see disk.ts), and a container built from the record. It mounts
// read-only staged volumes shared by every sandbox of the same build or OpenClaw version (the
// supervisor, OpenClaw: staged-volume.ts). The container is disposable: `start` recreates it
// from the record when it is gone (dockerd lost it, someone removed it), and the volume carries
// /sandbox across. Serving the egress path belongs to the runtime (`egress`, egress-path.ts).
import { mkdir, readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import path from "node:path";
import type Docker from "dockerode";
import { changedSections } from "../policy/diff.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { sandboxPolicyFile, sandboxRunDir } from "../state/paths.js";
import { RuntimeError } from "../state/runtime-error.js";
import { buildExecSpec, SANDBOX_LABEL, sandboxContainerName, sandboxVolumeName, workloadEnv } from "./container-spec.js";
import { captureOutput, runExec, startAndWait, streamLogs, type ExecIo, type LogsOptions } from "./container-io.js";
import { ensureSandboxVolume, removeSandboxVolumes } from "./disk.js";
import { describeDockerHost, isNotFound } from "./docker-client.js";
import { CLOSED_EGRESS, type EgressPath } from "./egress-path.js";
import { GATEWAY_CONFIG, gatewaySocketFile, hostRelayDir, writeGatewayToken } from "./gateway-inside.js";
import { rewriteGatewayModels, type GatewayModels } from "./gateway-models.js";
import { ensureImage, imageExists, type Progress } from "./image.js";
import { describeProxyGuard } from "./proxy-guard.js";
import { parseSandboxName, SandboxRegistry, type SandboxRecord } from "./registry.js";
import { removeRunVolume, runVolumeName } from "./remote-run.js";
import { ensureRunDir } from "./run-dir.js";
import { allSettled, createSandboxContainer, sandboxMounts, STATE_DIR_LABEL, type ContainerContext } from "./sandbox-container.js";
import { assertNameFree, planSandbox, type CreateOptions } from "./sandbox-plan.js";
import { composePolicy, policyText, readStoredPolicy, staticChanges } from "./sandbox-policy.js";
import { containerState, readStatus, type ContainerState, type SandboxStatus } from "./status.js";
import { installSandboxTrust, TRUST_ENV } from "./trust.js";

export type { ExecIo } from "./container-io.js";
export type { ContainerState, InsideReport, LayerReport, SandboxStatus } from "./status.js";
export { OPENCLAW_MOUNT } from "./openclaw-stage.js";

export type { Progress } from "./image.js";


export interface DriverOptions {
  docker: Docker;
  stateDir: string;
  dockerHost?: string | undefined;
  /** Who serves the sandboxes' egress path (the runtime's daemon). Default: nobody (egress closed). */
  egress?: EgressPath;
  /**
   * The model providers a gateway sandbox's OpenClaw config carries (from its inference route;
   * the runtime knows the router). Default: none, the config names no model.
   */
  gatewayModels?: (name: string) => Promise<GatewayModels | undefined>;
  /**
   * New sandboxes go on an engine that is not on this host (docs/architecture.md, "Remote
   * engines"): nothing is bind-mounted, the proxy socket is carried over the engine's exec API.
   */
  remote?: boolean;
}

export interface SandboxSummary {
  name: string;
  state: ContainerState;
  image: string;
  createdAt: string;
  presets: string[];
  openclaw: string | null;
}

export class SandboxDriver {
  readonly docker: Docker;
  readonly stateDir: string;
  readonly registry: SandboxRegistry;
  readonly #dockerHost: string | undefined;
  readonly #egress: EgressPath;
  readonly #gatewayModels: (name: string) => Promise<GatewayModels | undefined>;
  readonly #remote: boolean;

  constructor(options: DriverOptions) {
    this.docker = options.docker;
    this.stateDir = path.resolve(options.stateDir);
    this.registry = new SandboxRegistry(this.stateDir);
    this.#dockerHost = options.dockerHost;
    this.#egress = options.egress ?? CLOSED_EGRESS;
    this.#gatewayModels = options.gatewayModels ?? (async () => undefined);
    this.#remote = options.remote ?? false;
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

  #volumeLabels(name: string): Record<string, string> {
    return { [SANDBOX_LABEL]: name, [STATE_DIR_LABEL]: this.stateDir };
  }

  #containerContext(name: string): ContainerContext {
    return { docker: this.docker, stateDir: this.stateDir, gatewayModels: this.#gatewayModels, volumeLabels: this.#volumeLabels(name) };
  }

  #container(name: string): Docker.Container {
    return this.docker.getContainer(sandboxContainerName(name));
  }

  async containerState(name: string): Promise<ContainerState> {
    return containerState(await this.#inspect(name));
  }

  // ── create ─────────────────────────────────────────────────────────────────────────────

  async create(options: CreateOptions, progress: Progress = () => {}): Promise<SandboxRecord> {
    const name = parseSandboxName(options.name);
    await this.assertDocker();
    await assertNameFree(this.docker, this.registry, name);
    const { record, policy, presets } = await planSandbox(this.docker, name, options, { remote: this.#remote, dockerHost: this.#dockerHost, stateDir: this.stateDir }, progress);

    try {
      progress("state", `recording the sandbox in ${this.registry.stateDir}`);
      await this.registry.prepare(name);
      // Before the container is made: its seeded config carries the token.
      if (options.gateway && options.gatewayToken !== undefined) await writeGatewayToken(this.stateDir, name, options.gatewayToken);
      // The state and the egress path (which reads the policy file) are done while the container
      // is made; all of it before the container starts.
      await allSettled([
        (async () => {
          await writeFileAtomic(sandboxPolicyFile(this.stateDir, name), policyText(policy, name, record.policySource, presets));
          await this.registry.write(record);
          progress("daemon", "starting the egress path (host daemon)");
          await this.#egress.serve(name);
        })(),
        (async () => {
          progress("volume", record.limits.diskBytes > 0 ? `/sandbox limited to ${record.limits.diskBytes} bytes (ext4 image)` : "/sandbox without a size limit");
          progress("container", `creating ${sandboxContainerName(name)}`);
          await createSandboxContainer(this.#containerContext(record.name), record, ensureSandboxVolume(this.docker, record, this.#volumeLabels(record.name)));
        })(),
      ]);
      progress("start", "starting the supervisor and the workload");
      await startAndWait(this.docker, this.#container(name), name);
      await this.#serveRemote(record, progress);
      return record;
    } catch (e) {
      // Nothing half-made is left behind: a failed create leaves no state, container or volume.
      await this.#container(name).remove({ force: true }).catch(() => undefined);
      await removeSandboxVolumes(this.docker, record).catch(() => undefined);
      await removeRunVolume(this.docker, name).catch(() => undefined);
      await this.#egress.release(name);
      await this.registry.remove(name);
      throw e;
    }
  }

  /** A remote sandbox's proxy socket: the daemon attaches the engine relay and waits for it to listen. */
  async #serveRemote(record: SandboxRecord, progress: Progress): Promise<void> {
    if (!record.remote) return;
    progress("daemon", "carrying the proxy socket over the engine's exec API (engine relay)");
    await this.#egress.serve(record.name, { ...record.remote, waitReadyMs: 30_000 });
  }

  /**
   * Brings a running gateway sandbox's OpenClaw config in line with its inference route (the
   * provider entries and which is primary); the gateway hot-applies the change. Resolves
   * whether anything was written: false for a stopped sandbox (the next `start` does it), a
   * sandbox without a gateway or without a route.
   */
  async syncGatewayModels(name: string): Promise<{ changed: boolean; live: boolean }> {
    const record = await this.registry.get(name);
    if (!record.gateway || !record.openclaw) return { changed: false, live: false };
    const models = await this.#gatewayModels(name);
    if (!models) return { changed: false, live: false };
    await this.assertDocker();
    if (!(await this.#inspect(name))?.State.Running) return { changed: false, live: false };
    const changed = await rewriteGatewayModels((command, io) => this.exec(name, command, io), { name, openclawEntry: record.openclaw.entry, configPath: GATEWAY_CONFIG }, models);
    return { changed, live: true };
  }

  /** Host path of a gateway sandbox's relay socket (connect to reach its gateway). */
  gatewaySocket(name: string): string {
    return gatewaySocketFile(this.stateDir, name);
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
    return readStatus({
      stateDir: this.stateDir,
      record,
      info: await this.#inspect(name),
      egress: `${(await this.#egress.describe(name).catch(() => undefined)) ?? "not served: egress is closed"}${record.remote ? "; remote engine: carried over its exec API (engine relay)" : ""}`,
      proxyGuard: await describeProxyGuard(this.docker, this.stateDir, name, record.user),
      execCapture: (command) => this.execCapture(name, command),
    });
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
    // The run dir is under /tmp: after a reboot it is gone, and with it the CA certificate.
    await ensureRunDir(this.stateDir, name);
    if (record.gateway) await mkdir(hostRelayDir(sandboxRunDir(this.stateDir, name)), { recursive: true, mode: 0o700 });
    await installSandboxTrust(this.stateDir, name);
    progress("daemon", "making sure the host daemon serves the egress path");
    await this.#egress.serve(name, record.remote ?? undefined);
    let info = await this.#inspect(name);
    if (info?.State.Running) {
      await this.#serveRemote(record, progress);
      return { recreated: false, alreadyRunning: true };
    }
    if (!(await imageExists(this.docker, record.image))) await ensureImage(this.docker, record.baseImage, progress);
    // A quota's loop device does not survive a reboot: attached again, it may get another
    // number, and the volume naming the old one is remade, and with it the container (removed
    // first: it holds the old volume).
    const removeStale = () => this.#container(name).remove({ force: true }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    if (await ensureSandboxVolume(this.docker, record, this.#volumeLabels(record.name), removeStale)) {
      progress("volume", `the /sandbox disk was attached again; recreating ${sandboxContainerName(name)}`);
      info = undefined;
    }
    let recreated = false;
    if (!info) {
      await this.#container(name).remove({ force: true }).catch(() => undefined);
      progress("container", `recreating ${sandboxContainerName(name)} from ${this.stateDir} (volume ${sandboxVolumeName(name)} kept)`);
      await createSandboxContainer(this.#containerContext(record.name), record);
      recreated = true;
    }
    progress("start", "starting the supervisor and the workload");
    await startAndWait(this.docker, this.#container(name), name);
    await this.#serveRemote(record, progress);
    // The route may have changed while the sandbox was stopped; the config outlives containers.
    // A failure here leaves the gateway on its previous models: said, not fatal to the start.
    if (record.gateway) {
      await this.syncGatewayModels(name).catch((e: Error) => progress("openclaw", `the gateway's model config was not updated: ${e.message}`));
    }
    return { recreated, alreadyRunning: false };
  }

  async stop(name: string): Promise<{ wasRunning: boolean }> {
    await this.registry.get(name);
    await this.assertDocker();
    const info = await this.#inspect(name);
    if (!info?.State.Running) return { wasRunning: false };
    await this.#container(name).stop({ t: 10 });
    return { wasRunning: true };
  }

  async destroy(name: string): Promise<{ removed: string[] }> {
    const record = await this.registry.get(name);
    await this.assertDocker();
    const removed: string[] = [];
    try {
      await this.#container(name).remove({ force: true });
      removed.push(`container ${sandboxContainerName(name)}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    removed.push(...(await removeSandboxVolumes(this.docker, record)));
    if (await removeRunVolume(this.docker, name)) removed.push(`volume ${runVolumeName(name)}`);
    await this.#egress.release(name);
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

  // ── exec / logs (container-io.ts) ──────────────────────────────────────────────────────

  async #running(name: string): Promise<{ record: SandboxRecord; container: Docker.Container }> {
    const record = await this.registry.get(name);
    await this.assertDocker();
    const info = await this.#inspect(name);
    if (!info?.State.Running) {
      throw new RuntimeError("not-running", `sandbox ${name} is not running`, `start it: \`openclaw nemoclaw ${name} start\``);
    }
    return { record, container: this.#container(name) };
  }

  /** Runs a command inside as the workload (launcher, Landlock, uid 1000); resolves with its exit code. */
  async exec(name: string, command: readonly string[], io: ExecIo): Promise<number> {
    const { record, container } = await this.#running(name);
    const tty = io.tty ?? false;
    const spec = buildExecSpec({
      command,
      // The same lists as the workload's (buildContainerSpec adds the mount targets the same way).
      landlock: { ...record.landlock, readOnly: [...record.landlock.readOnly, ...sandboxMounts(this.stateDir, record, "-", record.remote ? "-" : undefined).map((m) => m.target)] },
      user: record.user,
      env: { ...workloadEnv({ ...TRUST_ENV, ...record.env }, { proxy: true }), ...(tty ? { TERM: process.env.TERM ?? "xterm" } : {}) },
      tty,
      stdin: io.stdin !== undefined,
    });
    return runExec(this.docker, container, spec, io);
  }

  /** Resolves with the container's exit code once it stops (at once if it is not running). */
  async wait(name: string): Promise<number> {
    await this.registry.get(name);
    const { StatusCode } = (await this.#container(name).wait()) as { StatusCode: number };
    return StatusCode;
  }

  /**
   * Why a stopped sandbox stopped, in one line: its exit code (and the engine's OOM flag) and the
   * last lines of its output, for messages that would otherwise only say "see the logs".
   */
  async stopReason(name: string, lines = 12): Promise<string> {
    const info = await this.#inspect(name).catch(() => undefined);
    if (!info) return "its container is gone";
    if (info.State.Running) return "it is running";
    const why = info.State.OOMKilled ? `killed for memory (exit ${info.State.ExitCode})` : `exit code ${info.State.ExitCode}`;
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
    await streamLogs(this.docker, this.#container(name), { follow: false, tail: lines, stdout: sink, stderr: sink }).catch(() => undefined);
    const tail = Buffer.concat(chunks).toString("utf8").trim().split("\n").map((l) => l.trim()).filter(Boolean);
    return tail.length ? `${why}; last output: ${tail.join(" | ").slice(-1500)}` : why;
  }

  /** exec with the output collected. */
  execCapture(name: string, command: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return captureOutput((io) => this.exec(name, command, io));
  }

  /** The container's output (the supervisor's and the workload's); with follow, until the container stops or `signal` aborts. */
  async logs(name: string, options: LogsOptions): Promise<void> {
    await this.registry.get(name);
    await this.assertDocker();
    if (!(await this.#inspect(name))) {
      throw new RuntimeError("not-created", `sandbox ${name} has no container yet`, `start it: \`openclaw nemoclaw ${name} start\``);
    }
    await streamLogs(this.docker, this.#container(name), options);
  }
}
