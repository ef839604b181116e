import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { Request } from "./protocol.js";
import { runPreflight } from "./preflight.js";
import { RuntimeError } from "../state/runtime-error.js";
import { egressCall } from "./egress-call.js";
import { runSkillTest } from "./skill-test.js";
import { inferenceCall } from "./inference-call.js";
import { overview } from "./overview.js";
import { followRoute, gatewayModelsFor } from "./gateway-models.js";
import { foregroundGateway, STOP_SIGNALS } from "./foreground-gateway.js";
import { restoreSandboxes } from "./restore.js";
import { gatewayStart, gatewayStop } from "./gateway-background.js";
import { recordIntent } from "../sandbox/intent.js";
import { gatewayHealth } from "./gateway-health.js";
import { cleanupHandler, sandboxExport } from "./lifecycle.js";
import { carryOverInto, readOperatorConfig } from "./carry-over.js";
import { createDockerClient, isRemoteEngine } from "../sandbox/docker-client.js";
import { daemonEgressPath, daemonHealth, stopDaemon } from "./daemon-client.js";
import { endpointDestinations, listPresets } from "../policy/presets.js";
import { buildContainerSpec, sandboxVolumeName } from "../sandbox/container-spec.js";
import { SandboxDriver } from "../sandbox/driver.js";
import { hostGatewayToken } from "../sandbox/gateway-inside.js";
import { DEFAULT_BASE_IMAGE, imageExists, LAUNCHER_PATH, sandboxImageTag } from "../sandbox/image.js";
import { composePolicy, policyFailure } from "../sandbox/sandbox-policy.js";
import { controlSocketFile, daemonLogFile, sandboxPolicyFile, sandboxDir } from "../state/paths.js";

export type Progress = (step: string, message: string, percent?: number) => void;
type Handler<C extends Request["command"]> = (req: Extract<Request, { command: C }>, progress: Progress) => Promise<unknown>;

/**
 * Landlock's exact ABI as a sandbox sees it: `landlock-exec --abi` in a throwaway container of
 * the sandbox image (same seccomp profile, no network), when such an image exists.
 */
async function probeLandlockAbi(docker: Docker, baseImage: string | undefined): Promise<number | undefined> {
  let image: string | undefined;
  if (baseImage) {
    const tag = await sandboxImageTag({ baseImage });
    if (await imageExists(docker, tag)) image = tag;
  }
  if (!image) {
    const images = await docker.listImages({ filters: JSON.stringify({ label: ["nemoclaw.image=sandbox"] }) });
    image = images.sort((a, b) => b.Created - a.Created)[0]?.RepoTags?.find((t) => t !== "<none>:<none>");
  }
  if (!image) return undefined;
  const name = `doctor-${randomBytes(4).toString("hex")}`;
  const spec = buildContainerSpec({ name, image, command: [LAUNCHER_PATH, "--abi"], landlock: false });
  const container = await docker.createContainer(spec);
  try {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString("utf8")));
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    docker.modem.demuxStream(stream, out, new PassThrough());
    await container.start();
    await container.wait();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abi = Number(text.trim());
    return Number.isInteger(abi) ? abi : undefined;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
    await docker.getVolume(sandboxVolumeName(name)).remove().catch(() => undefined);
  }
}

const doctor: Handler<"doctor"> = async (req, progress) => {
  const checks = await runPreflight(
    {
      stateDir: req.stateDir,
      dockerHost: req.dockerHost,
      ports: req.ports,
      probeLandlockAbi: (docker) => probeLandlockAbi(docker, req.baseImage),
    },
    (c) => progress("doctor", `${c.name}: ${c.status}`),
  );
  return { checks };
};

const policyCheck: Handler<"policy.check"> = async (req) => {
  const { policy, presets, warnings } = await composePolicy(req.file, req.presets);
  return {
    file: req.file,
    presets,
    warnings,
    networkPolicies: Object.entries(policy.network_policies ?? {}).map(([name, np]) => ({
      name,
      endpoints: (np.endpoints ?? []).flatMap(endpointDestinations),
      binaries: (np.binaries ?? []).map((b) => b.path),
    })),
  };
};

const policyPresets: Handler<"policy.presets"> = async () => {
  try {
    const presets = await listPresets();
    return { presets: presets.map((p) => ({ name: p.name, description: p.description, allows: p.allows, permits: p.permits })) };
  } catch (e) {
    policyFailure(e, "a shipped preset");
  }
};

// ── sandboxes ────────────────────────────────────────────────────────────────────────────────

/** The driver, with this state dir's daemon serving the egress path (started when a sandbox needs it). */
function driverFor(req: { stateDir: string; dockerHost?: string | undefined }): SandboxDriver {
  const docker = createDockerClient(req.dockerHost);
  return new SandboxDriver({
    docker,
    stateDir: req.stateDir,
    dockerHost: req.dockerHost,
    remote: isRemoteEngine(req.dockerHost),
    egress: daemonEgressPath(req.stateDir),
    gatewayModels: gatewayModelsFor(req.stateDir),
  });
}

/**
 * `inference.call`; after `inference/set`, a gateway sandbox's OpenClaw config follows the route
 * (its primary provider entry changes with the route's shape, hot-applied by the gateway).
 */
const inferenceCallHandler: Handler<"inference.call"> = async (req) => {
  const answer = await inferenceCall(req.stateDir, req.route, req.body);
  if (req.route !== "inference/set") return answer;
  const { sandbox } = answer as { sandbox: string };
  return { ...(answer as object), ...(await followRoute(driverFor(req), sandbox)) };
};

const sandboxCreate: Handler<"sandbox.create"> = async (req, progress) => {
  const driver = driverFor(req);
  const limits = {
    ...(req.memoryBytes ? { memoryBytes: req.memoryBytes } : {}),
    ...(req.nanoCpus ? { nanoCpus: req.nanoCpus } : {}),
    ...(req.diskBytes !== undefined ? { diskBytes: req.diskBytes } : {}),
  };
  const hostToken = req.gateway && req.gatewayTokenFrom ? hostGatewayToken((await readOperatorConfig(req.gatewayTokenFrom)) ?? {}) : undefined;
  const record = await driver.create(
    {
      name: req.name,
      baseImage: req.baseImage ?? DEFAULT_BASE_IMAGE,
      policyFile: req.policyFile,
      presets: req.presets,
      limits,
      openclawDir: req.openclawDir,
      gateway: req.gateway,
      gatewayToken: hostToken,
    },
    progress,
  );
  return {
    name: record.name,
    image: record.image,
    volume: sandboxVolumeName(record.name),
    stateDir: sandboxDir(driver.stateDir, record.name),
    policyFile: sandboxPolicyFile(driver.stateDir, record.name),
    presets: record.presets,
    openclaw: record.openclaw ? `${record.openclaw.version} (${record.openclaw.hostDir})` : null,
    limits: record.limits,
    ...(record.gateway ? { gatewayToken: hostToken === undefined ? ("own" as const) : ("host-config" as const) } : {}),
  };
};

const sandboxList: Handler<"sandbox.list"> = async (req) => {
  const driver = driverFor(req);
  await driver.assertDocker();
  return { sandboxes: await driver.list() };
};

const sandboxStatus: Handler<"sandbox.status"> = async (req) => driverFor(req).status(req.name);

// The operator's start and stop are remembered (sandbox/intent.ts): a bare `start` after a
// reboot brings back what was running and leaves what they stopped.
const sandboxStart: Handler<"sandbox.start"> = async (req, progress) => {
  const result = await driverFor(req).start(req.name, progress);
  await recordIntent(req.stateDir, req.name, { wanted: "running" });
  return { name: req.name, ...result };
};

const sandboxStop: Handler<"sandbox.stop"> = async (req) => {
  const result = await driverFor(req).stop(req.name);
  await recordIntent(req.stateDir, req.name, { wanted: "stopped" });
  return { name: req.name, ...result };
};

const sandboxDestroy: Handler<"sandbox.destroy"> = async (req) => ({ name: req.name, ...(await driverFor(req).destroy(req.name)) });

/**
 * `<name> policy set FILE`: the driver checks that static sections are untouched and writes the
 * sandbox's policy file; when the daemon serves the sandbox, its gateway then loads that file
 * live (re-validated, revoked connections closed). A stopped sandbox picks it up when it starts.
 */
const sandboxPolicyApply: Handler<"sandbox.policy.apply"> = async (req) => {
  const { changed } = await driverFor(req).applyPolicy(req.name, req.file, req.presets);
  const health = await daemonHealth(req.stateDir);
  if (!health?.sandboxes.includes(req.name)) return { name: req.name, file: path.resolve(req.file), changed, live: false, closed: 0 };
  const policyFile = sandboxPolicyFile(req.stateDir, req.name);
  const answer = (await egressCall({
    stateDir: req.stateDir,
    route: "policy/set",
    body: { sandbox: req.name, yaml: await readFile(policyFile, "utf8"), file: policyFile },
  })) as { ok: boolean; closed?: number; message?: string };
  if (!answer.ok) throw new RuntimeError("policy-not-live", `the policy file was written but the gateway refused it: ${answer.message}`, "run `openclaw nemoclaw <name> policy get` to see what is in force");
  return { name: req.name, file: path.resolve(req.file), changed, live: true, closed: answer.closed ?? 0 };
};

/** Streaming: stdio is the plugin's own (inherited); see protocol.ts. */
const sandboxExec: Handler<"sandbox.exec"> = async (req) => {
  const tty = req.tty && Boolean(process.stdin.isTTY);
  // Piped input goes in; a terminal only with --tty (as with `docker exec` without -i).
  const stdin = tty || !process.stdin.isTTY ? process.stdin : undefined;
  return { exitCode: await withTerminal(tty, (io) => driverFor(req).exec(req.name, req.argv, { ...io, stdin, tty })) };
};

const sandboxConnect: Handler<"sandbox.connect"> = async (req) => {
  const tty = Boolean(process.stdin.isTTY);
  return {
    exitCode: await withTerminal(tty, (io) => driverFor(req).exec(req.name, ["/bin/bash", ...(tty ? ["-l"] : [])], { ...io, stdin: process.stdin, tty })),
  };
};

const sandboxLogs: Handler<"sandbox.logs"> = async (req) => {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
  try {
    await driverFor(req).logs(req.name, {
      follow: req.follow,
      ...(req.tail ? { tail: req.tail } : {}),
      stdout: process.stdout,
      stderr: process.stderr,
      signal: abort.signal,
    });
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }
  return { name: req.name };
};

const sandboxGateway: Handler<"sandbox.gateway"> = (req) => foregroundGateway(driverFor(req), req);

/** Raw mode and resize forwarding for a terminal; restored whatever happens. */
async function withTerminal(
  tty: boolean,
  run: (io: { stdout: NodeJS.WritableStream & import("node:stream").Writable; stderr: import("node:stream").Writable; onResize?: (resize: (size: { h: number; w: number }) => Promise<void>) => void }) => Promise<number>,
): Promise<number> {
  const size = () => ({ h: process.stdout.rows ?? 24, w: process.stdout.columns ?? 80 });
  let onResize: (() => void) | undefined;
  if (tty) process.stdin.setRawMode(true);
  try {
    return await run({
      stdout: process.stdout,
      stderr: process.stderr,
      ...(tty
        ? {
            onResize: (resize) => {
              onResize = () => void resize(size()).catch(() => undefined);
              process.stdout.on("resize", onResize);
              onResize();
            },
          }
        : {}),
    });
  } finally {
    if (onResize) process.stdout.off("resize", onResize);
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

/** The secret for `credentials add`: this process's stdin to EOF, never its argv. */
async function readSecret(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) throw new RuntimeError("secret-too-long", "the secret on stdin is longer than 16 KiB", "pass only the key itself");
    chunks.push(chunk as Buffer);
  }
  const secret = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (secret === "") throw new RuntimeError("secret-missing", "no secret arrived on stdin", "use --from-env VAR with VAR set, or pipe the secret into --stdin");
  return secret;
}

const credentialsAdd: Handler<"credentials.add"> = async (req) => {
  const { command: _command, stateDir, ...fields } = req;
  return inferenceCall(stateDir, "credentials/add", { ...fields, secret: await readSecret() });
};

const gatewayHealthCheck: Handler<"gateway.health"> = async (req, progress) => ({
  name: req.name,
  ...(await gatewayHealth(driverFor(req), req.stateDir, req.name, req.timeoutMs, (m) => progress("health", m))),
});

const daemonStatus: Handler<"daemon.status"> = async (req) => {
  const health = await daemonHealth(req.stateDir);
  return {
    running: health !== undefined,
    pid: health?.pid ?? null,
    version: health?.version ?? null,
    egress: health?.egress ?? null,
    startedAt: health?.startedAt ?? null,
    sandboxes: health?.sandboxes ?? [],
    controlSocket: controlSocketFile(req.stateDir),
    log: daemonLogFile(req.stateDir),
  };
};

const overviewHandler: Handler<"overview"> = async (req) => {
  const driver = driverFor(req);
  await driver.assertDocker();
  return overview(driver);
};

const skillTest: Handler<"skill.test"> = async (req, progress) => {
  const { command: _command, dockerHost: _dockerHost, ...options } = req;
  return runSkillTest(driverFor(req), options, (step, message) => progress(step, message));
};

const daemonStop: Handler<"daemon.stop"> = async (req) => ({ wasRunning: await stopDaemon(req.stateDir) });

export const handlers: { [C in Request["command"]]: Handler<C> } = {
  "egress.call": (req) => egressCall(req),
  "inference.call": inferenceCallHandler,
  "credentials.add": credentialsAdd,
  doctor,
  "policy.check": policyCheck,
  "policy.presets": policyPresets,
  "sandbox.create": sandboxCreate,
  "sandbox.list": sandboxList,
  "sandbox.status": sandboxStatus,
  "sandbox.start": sandboxStart,
  "sandbox.stop": sandboxStop,
  "sandbox.destroy": sandboxDestroy,
  "sandbox.policy.apply": sandboxPolicyApply,
  "sandbox.exec": sandboxExec,
  "sandbox.connect": sandboxConnect,
  "sandbox.logs": sandboxLogs,
  "sandbox.gateway": sandboxGateway,
  "gateway.start": (req, progress) => gatewayStart(driverFor(req), req, progress),
  "gateway.stop": (req) => gatewayStop(driverFor(req), req),
  "sandboxes.restore": (req, progress) => restoreSandboxes(driverFor(req), req, progress),
  "gateway.health": gatewayHealthCheck,
  "sandbox.carryover": (req, progress) => carryOverInto(driverFor(req), req, (m) => progress("carry-over", m)),
  "skill.test": skillTest,
  "daemon.status": daemonStatus,
  overview: overviewHandler,
  "daemon.stop": daemonStop,
  "sandbox.export": (req, progress) => sandboxExport(driverFor(req), req, progress),
  cleanup: (req, progress) => cleanupHandler(driverFor(req), req, progress),
};
