// `openclaw nemoclaw status`: the one screen an operator looks at. Every sandbox with its layers
// as read from inside (the same probe as `<name> status`), its policy revision, its inference
// route, its pending approvals and, for a gateway sandbox, whether the gateway answers through
// its relay; the host daemon's health; the disk our images and volumes use. Sandboxes are probed
// in parallel, each probe bounded, so one stuck sandbox cannot hold the screen.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import http from "node:http";
import type Docker from "dockerode";
import { ApprovalSchema } from "../gateway/approvals.js";
import { RouteStore } from "../inference/route.js";
import { CredentialStore } from "../credentials/store.js";
import { DEFAULT_IMAGE_REPOSITORY } from "../sandbox/image.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import type { SandboxStatus } from "../sandbox/status.js";
import { sandboxPolicyFile } from "../state/paths.js";
import { daemonHealth, controlRequest } from "./daemon-client.js";
import type { OverviewResult, OverviewSandbox, LayerCheck } from "./protocol.js";

const PROBE_MS = 5_000;
const HEALTH_MS = 1_500;

function within<T>(ms: number, work: Promise<T>): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The three in-sandbox layers, each one line, from the status probe run inside. */
export function layerChecks(s: SandboxStatus): { network: LayerCheck; filesystem: LayerCheck; process: LayerCheck } | null {
  const inside = s.inside;
  if (inside === null) return null;
  const socket = inside.proxySocket;
  const network: LayerCheck = socket.present
    ? { ok: true, detail: `no interface but loopback; egress only through the proxy socket (${s.egress})` }
    : { ok: false, detail: `the proxy socket is missing (${socket.error ?? "unknown"}): egress is closed` };
  const l = inside.landlock;
  const rootRo = inside.mounts.some((m) => m.target === "/" && /(^|,)ro(,|$)/.test(m.options));
  const filesystem: LayerCheck =
    l.abi > 0 && l.write === "EACCES" && rootRo
      ? { ok: true, detail: `read-only root, Landlock ABI ${l.abi} enforced (a write to ${l.probe} was refused)` }
      : { ok: false, detail: `Landlock ABI ${l.abi}: write to ${l.probe} gave ${l.write}; root ${rootRo ? "read-only" : "WRITABLE"}` };
  const w = inside.workload;
  const process: LayerCheck =
    w === null
      ? { ok: false, detail: "no workload found inside" }
      : w.seccomp === 2 && w.noNewPrivs === 1 && /^0+$/.test(w.capEff) && w.uid !== 0
        ? { ok: true, detail: `uid ${w.uid}, seccomp (${w.seccompFilters} filter${w.seccompFilters === 1 ? "" : "s"}), no_new_privs, no capabilities` }
        : { ok: false, detail: `uid ${w.uid}, seccomp mode ${w.seccomp}, no_new_privs ${w.noNewPrivs}, CapEff ${w.capEff}` };
  return { network, filesystem, process };
}

/** The policy file's content digest and when it last changed: which policy is in force. */
async function policyRevision(stateDir: string, name: string): Promise<Omit<OverviewSandbox["policy"], "presets">> {
  const file = sandboxPolicyFile(stateDir, name);
  try {
    const [text, info] = await Promise.all([readFile(file), stat(file)]);
    return { file, revision: createHash("sha256").update(text).digest("hex").slice(0, 12), changedAt: info.mtime.toISOString() };
  } catch {
    return { file, revision: null, changedAt: null };
  }
}

/** GET /readyz through the host side of the relay socket: does the sandboxed gateway answer? */
function gatewayReady(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: "/readyz", timeout: HEALTH_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? "ready" : `answered ${res.statusCode}`);
    });
    req.on("timeout", () => req.destroy(new Error("no answer")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ENOENT" || e.code === "ECONNREFUSED" ? "not listening" : `unreachable (${e.message})`));
  });
}

async function pendingApprovals(stateDir: string, running: boolean): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (!running) return counts;
  const answer = (await controlRequest(stateDir, "POST", "/egress/approvals/list", {}).catch(() => undefined)) as { approvals?: unknown[] } | undefined;
  for (const raw of answer?.approvals ?? []) {
    const a = ApprovalSchema.safeParse(raw);
    if (a.success && a.data.status === "pending") counts.set(a.data.sandbox, (counts.get(a.data.sandbox) ?? 0) + 1);
  }
  return counts;
}

/** What `docker system df` says about images and volumes (the fields read here). */
export interface EngineDiskUse {
  Images?: Array<{ RepoTags?: string[] | null; Size?: number }> | null;
  Volumes?: Array<{ Name: string; UsageData?: { Size?: number } | null }> | null;
}

/**
 * Bytes our sandbox images and /sandbox volumes use, from the engine's own accounting. A
 * sandbox with a quota has two volumes (sandbox/disk.ts): `nemoclaw-<name>-sandbox`, a local
 * volume with mount options, which the engine leaves out of its accounting altogether, and
 * `nemoclaw-<name>-disk`, which holds the ext4 image (the engine counts the image file's size,
 * the quota for a sparse one). So each sandbox counts once, by its disk volume when it has one
 * (the loop-mounted volume's content is inside that image: never added twice).
 */
export function diskUseOf(df: EngineDiskUse): NonNullable<OverviewResult["disk"]> {
  const images = (df.Images ?? []).filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith(`${DEFAULT_IMAGE_REPOSITORY}:`)));
  const perSandbox = new Map<string, { kind: "sandbox" | "disk"; bytes: number }>();
  for (const v of df.Volumes ?? []) {
    const m = /^nemoclaw-(.+)-(sandbox|disk)$/.exec(v.Name);
    if (!m) continue;
    const [, name, kind] = m as unknown as [string, string, "sandbox" | "disk"];
    if (perSandbox.get(name)?.kind === "disk") continue;
    perSandbox.set(name, { kind, bytes: Math.max(0, v.UsageData?.Size ?? 0) });
  }
  const volumes = [...perSandbox.values()];
  return {
    images: { count: images.length, bytes: images.reduce((n, i) => n + Math.max(0, i.Size ?? 0), 0) },
    volumes: { count: volumes.length, bytes: volumes.reduce((n, v) => n + v.bytes, 0) },
  };
}

async function diskUse(docker: Docker): Promise<OverviewResult["disk"]> {
  return diskUseOf((await docker.df()) as EngineDiskUse);
}

export async function overview(driver: SandboxDriver): Promise<OverviewResult> {
  const stateDir = driver.stateDir;
  // The engine's accounting walks every volume (150–200 ms with none of ours): asked first and
  // awaited last, so it runs beside the daemon's health and the probes inside.
  const disking = within(PROBE_MS, diskUse(driver.docker)).catch(() => "timeout" as const);
  const [health, names] = await Promise.all([daemonHealth(stateDir), driver.registry.names()]);
  const pending = await pendingApprovals(stateDir, health !== undefined);
  const routes = new RouteStore(stateDir, new CredentialStore(stateDir));
  const sandboxes = await Promise.all(
    // The record read once (driver.list() would read it for its summary, and this for `gateway`).
    names.map(async (name): Promise<OverviewSandbox> => {
      const [record, state] = await Promise.all([driver.registry.get(name), driver.containerState(name).catch(() => "missing" as const)]);
      const running = state === "running";
      const [status, policy, route, gateway] = await Promise.all([
        running ? within(PROBE_MS, driver.status(name)).catch((e: Error) => e) : Promise.resolve(undefined),
        policyRevision(stateDir, name),
        routes.get(name).catch(() => undefined),
        record.gateway && running ? gatewayReady(driver.gatewaySocket(name)) : Promise.resolve(record.gateway ? "stopped" : null),
      ]);
      const layers =
        status === undefined ? null : status === "timeout" ? "the probe inside did not answer in time" : status instanceof Error ? `the probe inside failed: ${status.message}` : layerChecks(status);
      return {
        name,
        state,
        layers,
        policy: { ...policy, presets: record.presets },
        inference: route === undefined ? null : { provider: route.provider, model: route.model },
        pendingApprovals: pending.get(name) ?? 0,
        gateway,
      };
    }),
  );
  const disk = await disking;
  return {
    daemon: health === undefined ? { running: false, pid: null, version: null, startedAt: null } : { running: true, pid: health.pid, version: health.version, startedAt: health.startedAt },
    sandboxes,
    disk: disk === "timeout" ? null : disk,
  };
}
