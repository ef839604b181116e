// Sandboxes made by the real driver, with a state dir of their own and an in-process host daemon
// serving refuse-all egress (so tests do not depend on the gateway being there). Needs the
// compiled runtime (`npm run build`): the supervisor runs from dist/blueprint.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { startDaemon, type Daemon } from "../../blueprint/runtime/daemon.js";
import { daemonEgressPath, stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { refuseAllEgress } from "./refuse-all-egress.js";
import { SandboxDriver, type DriverOptions } from "../../blueprint/sandbox/driver.js";
import type { CreateOptions } from "../../blueprint/sandbox/sandbox-plan.js";
import type { SandboxRecord } from "../../blueprint/sandbox/registry.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "./docker-images.js";
import { probeDir } from "./docker-probe.js";
import { uniqueName } from "./docker-run.js";
import { repoRoot } from "./node24.js";

export const OPENCLAW_DIR = path.join(repoRoot, "node_modules", "openclaw");

export interface SandboxHarness {
  stateDir: string;
  driver: SandboxDriver;
  daemon: Daemon | undefined;
  /** Creates a sandbox with a unique name (prefix given) on the test base image. */
  create(prefix: string, options?: Partial<CreateOptions>): Promise<SandboxRecord>;
  /** Runs a command inside as the workload; output collected. */
  exec(name: string, command: readonly string[], stdin?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Copies the red-team probe into the sandbox's /sandbox (as the workload) and returns its path there. */
  installProbe(name: string): Promise<string>;
  startDaemon(): Promise<Daemon>;
  dispose(): Promise<void>;
}

/** gatewayModelsFor: the driver's gatewayModels option for the harness's state dir (the runtime's is runtime/gateway-models.ts). */
export async function createSandboxHarness(
  options: { daemon?: boolean; gatewayModelsFor?: (stateDir: string) => DriverOptions["gatewayModels"]; docker?: Docker; driver?: Partial<DriverOptions> } = {},
): Promise<SandboxHarness> {
  const docker = options.docker ?? dockerClient();
  if (!options.docker) await ensureSandboxImage(docker);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-state-"));
  // The egress path as the runtime wires it: this state dir's daemon (the in-process one below).
  const gatewayModels = options.gatewayModelsFor?.(stateDir);
  const driver = new SandboxDriver({ docker, stateDir, egress: daemonEgressPath(stateDir), ...(gatewayModels ? { gatewayModels } : {}), ...options.driver });
  const names = new Set<string>();
  const harness: SandboxHarness = {
    stateDir,
    driver,
    daemon: undefined,
    async startDaemon() {
      harness.daemon = await startDaemon({ stateDir, egress: refuseAllEgress(stateDir), log: () => {} });
      return harness.daemon;
    },
    async create(prefix, extra = {}) {
      const name = uniqueName(prefix);
      names.add(name);
      return driver.create({ name, baseImage: BASE_IMAGE, openclawDir: OPENCLAW_DIR, ...extra });
    },
    async exec(name, command, stdin) {
      const out = new PassThrough();
      const err = new PassThrough();
      const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
      out.on("data", (c: Buffer) => chunks.out.push(c));
      err.on("data", (c: Buffer) => chunks.err.push(c));
      const input = stdin === undefined ? undefined : PassThrough.from([Buffer.from(stdin)]);
      const exitCode = await driver.exec(name, command, { stdout: out, stderr: err, stdin: input });
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { exitCode, stdout: Buffer.concat(chunks.out).toString("utf8"), stderr: Buffer.concat(chunks.err).toString("utf8") };
    },
    async installProbe(name) {
      const target = "/sandbox/probe";
      const exitCode = await driver.exec(name, ["sh", "-c", `cat > ${target} && chmod 0755 ${target}`], {
        stdin: createReadStream(path.join(await probeDir(), "probe")),
        stdout: new PassThrough(),
        stderr: new PassThrough(),
      });
      if (exitCode !== 0) throw new Error(`installing the probe failed (exit ${exitCode})`);
      return target;
    },
    async dispose() {
      for (const name of names) await driver.destroy(name).catch(() => undefined);
      if (harness.daemon) await harness.daemon.close();
      else await stopDaemon(stateDir).catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  if (options.daemon !== false) await harness.startDaemon();
  return harness;
}
