// `uninstall` and `gc`: what nemoclaw made on this host and the engine, found, planned, then
// removed. The plan is the same object in both steps, so the summary the operator confirms is
// exactly what goes.
//
// Ownership. Containers and /sandbox volumes carry the state dir they belong to (STATE_DIR_LABEL):
// only this state dir's are touched. Images (nemoclaw-sandbox:<hash>), their build stages and
// staged volumes (nemoclaw-runtime-*, nemoclaw-openclaw-*) are shared by every state dir on the
// engine, so one goes only when nothing uses it: no other container (of any kind) and no sandbox
// recorded in any state dir the engine's labels name. A state dir that exists but cannot be read
// keeps everything shared.
//   uninstall: this state dir's containers, volumes (not with keepData), daemon, run dirs and state
//     dir (credentials kept with keepData); of the shared things, those its sandboxes used and the
//     ones this build makes, when unused.
//   gc: shared things nothing uses, except the ones this build would use next (the current image
//     and staged volumes); this state dir's run dirs, containers of sandboxes it no longer records,
//     and staged runtime copies of other builds. Never a /sandbox volume: that is the user's data.
//
// Build stages: the classic builder leaves the launcher stage of blueprint/Dockerfile as a
// dangling image (recognised by its history: the step that compiles /src/landlock-exec.c). One
// belongs to the first sandbox image built after it (within 30 minutes) and goes with that image.
import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { STATE_DIR_LABEL, supervisorVolumeName } from "../sandbox/sandbox-container.js";
import { SANDBOX_LABEL } from "../sandbox/container-spec.js";
import { removeSandboxVolumes } from "../sandbox/disk.js";
import { DEFAULT_BASE_IMAGE, sandboxImageTag } from "../sandbox/image.js";
import { openclawClosure, openclawVolumeName } from "../sandbox/openclaw-stage.js";
import { SandboxRegistry, type SandboxRecord } from "../sandbox/registry.js";
import { STAGED_LABEL } from "../sandbox/staged-volume.js";
import { stateRunDir } from "../state/paths.js";
import { runtimeIdentity } from "../state/runtime-files.js";
import { daemonHealth, stopDaemon } from "./daemon-client.js";

export type CleanupKind = "container" | "volume" | "daemon" | "image" | "build-stage" | "staged-volume" | "run-dir" | "staged-runtime" | "state" | "credentials";
export type CleanupItem = { kind: CleanupKind; name: string; detail: string };
export type CleanupOptions = { stateDir: string; mode: "uninstall" | "gc"; keepData: boolean; baseImage?: string | undefined; openclawDir?: string | undefined };

/** What goes and what stays (with why); `sandboxes` carries what removing their volumes needs. */
export type CleanupPlan = { remove: CleanupItem[]; keep: CleanupItem[]; sandboxes: Map<string, string> };

const IMAGE_LABEL = "nemoclaw.image=sandbox";
const LAUNCHER_FINGERPRINT = "/src/landlock-exec.c";
const STAGE_WINDOW_S = 30 * 60;

type Users = { images: Set<string>; volumes: Set<string>; unreadable: string[] };

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(() => true, () => false);
}

/** The records of a state dir; undefined when it exists but cannot be read. */
async function recordsOf(stateDir: string): Promise<SandboxRecord[] | undefined> {
  if (!(await exists(stateDir))) return [];
  try {
    const registry = new SandboxRegistry(stateDir);
    const out: SandboxRecord[] = [];
    for (const name of await registry.names()) out.push(await registry.get(name));
    return out;
  } catch {
    return undefined;
  }
}

function addRecordUses(users: Users, record: SandboxRecord): void {
  users.images.add(record.image);
  for (const m of record.mounts) if (m.volume) users.volumes.add(m.source);
}

/** This build's shared things: the next create uses them. */
async function currentShared(options: CleanupOptions): Promise<{ image: string; volumes: string[] }> {
  const image = await sandboxImageTag({ baseImage: options.baseImage ?? DEFAULT_BASE_IMAGE });
  const volumes = [supervisorVolumeName()];
  if (options.openclawDir) {
    const closure = await openclawClosure(options.openclawDir).catch(() => undefined);
    if (closure) volumes.push(openclawVolumeName(closure.key));
  }
  return { image, volumes };
}

/** The image a build stage was built for: the first sandbox image made after it, within the window. */
export function stageOwner<I extends { Created: number }>(stage: { Created: number }, images: readonly I[]): I | undefined {
  return images.filter((i) => i.Created >= stage.Created && i.Created - stage.Created <= STAGE_WINDOW_S).sort((a, b) => a.Created - b.Created)[0];
}

export async function planCleanup(docker: Docker, options: CleanupOptions): Promise<CleanupPlan> {
  const stateDir = path.resolve(options.stateDir);
  const uninstall = options.mode === "uninstall";
  const plan: CleanupPlan = { remove: [], keep: [], sandboxes: new Map() };
  const own = (labels: Record<string, string> | null | undefined) => labels?.[STATE_DIR_LABEL] === stateDir;

  const containers = await docker.listContainers({ all: true });
  const volumes = (await docker.listVolumes()).Volumes ?? [];
  const records = (await recordsOf(stateDir)) ?? [];
  const recorded = new Set(records.map((r) => r.name));
  const current = await currentShared(options);

  // ── this state dir's containers and volumes ──
  const removedContainers = new Set<string>();
  for (const c of containers) {
    if (!own(c.Labels)) continue;
    const name = c.Labels[SANDBOX_LABEL] ?? c.Names[0]?.replace(/^\//, "") ?? c.Id;
    if (uninstall || !recorded.has(name)) {
      removedContainers.add(c.Id);
      plan.remove.push({ kind: "container", name: c.Names[0]?.replace(/^\//, "") ?? c.Id, detail: uninstall ? `sandbox ${name} (${c.State})` : `sandbox ${name} is no longer recorded (${c.State})` });
      plan.sandboxes.set(name, c.Image);
    }
  }
  for (const r of records) plan.sandboxes.set(r.name, r.image);
  for (const v of volumes) {
    if (!own(v.Labels)) continue;
    const sandbox = v.Labels[SANDBOX_LABEL] ?? "?";
    // Removing a quota's volume runs a helper on an image: the sandbox's, else this build's.
    if (!plan.sandboxes.has(sandbox)) plan.sandboxes.set(sandbox, current.image);
    if (uninstall && !options.keepData) plan.remove.push({ kind: "volume", name: v.Name, detail: `/sandbox of ${sandbox}: your data there goes (export it first: eject --export DIR)` });
    else plan.keep.push({ kind: "volume", name: v.Name, detail: uninstall ? `/sandbox of ${sandbox} (--keep-data)` : recorded.has(sandbox) ? `/sandbox of ${sandbox}` : `/sandbox of ${sandbox}, no longer recorded: user data, never collected (docker volume rm ${v.Name})` });
  }

  // ── who uses the shared things once that is gone ──
  const users: Users = { images: new Set(), volumes: new Set(), unreadable: [] };
  for (const c of containers) {
    if (removedContainers.has(c.Id)) continue;
    users.images.add(c.Image);
    for (const m of c.Mounts ?? []) if (m.Name) users.volumes.add(m.Name);
  }
  const stateDirs = new Set<string>();
  for (const labels of [...containers.map((c) => c.Labels), ...volumes.map((v) => v.Labels)]) {
    const dir = labels?.[STATE_DIR_LABEL];
    if (dir && (dir !== stateDir || !uninstall)) stateDirs.add(dir);
  }
  if (!uninstall) stateDirs.add(stateDir);
  for (const dir of stateDirs) {
    const found = await recordsOf(dir);
    if (found === undefined) users.unreadable.push(dir);
    else for (const r of found) addRecordUses(users, r);
  }
  const ours = { images: new Set<string>([current.image]), volumes: new Set<string>(current.volumes) };
  if (uninstall) {
    for (const r of records) {
      ours.images.add(r.image);
      for (const m of r.mounts) if (m.volume) ours.volumes.add(m.source);
    }
    for (const c of containers) {
      if (!removedContainers.has(c.Id)) continue;
      ours.images.add(c.Image);
      for (const m of c.Mounts ?? []) if (m.Name && m.Name.startsWith("nemoclaw-")) ours.volumes.add(m.Name);
    }
  }
  const candidate = (set: Set<string>, currentOnes: readonly string[], name: string) => (uninstall ? set.has(name) : !currentOnes.includes(name));
  const blocked = (inUse: boolean, what: string): string | undefined =>
    inUse ? `still used (${what})` : users.unreadable.length > 0 ? `kept: cannot read ${users.unreadable.join(", ")} to tell whether its sandboxes use it` : undefined;

  // ── images and their build stages ──
  const images = await docker.listImages({ filters: JSON.stringify({ label: [IMAGE_LABEL] }) });
  const removedImages = new Set<string>();
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (tag === "<none>:<none>") continue;
      if (!candidate(ours.images, [current.image], tag)) {
        if (!uninstall && tag === current.image) plan.keep.push({ kind: "image", name: tag, detail: "the image the next sandbox uses" });
        continue;
      }
      const why = blocked(users.images.has(tag) || users.images.has(image.Id), "a container or a recorded sandbox");
      if (why) plan.keep.push({ kind: "image", name: tag, detail: why });
      else {
        plan.remove.push({ kind: "image", name: tag, detail: `${Math.round(image.Size / 1e6)} MB` });
        removedImages.add(image.Id);
      }
    }
  }
  const dangling = await docker.listImages({ filters: JSON.stringify({ dangling: ["true"] }) });
  for (const stage of dangling) {
    const history = (await docker.getImage(stage.Id).history().catch(() => [])) as Array<{ CreatedBy?: string }>;
    if (!history.some((h) => h.CreatedBy?.includes(LAUNCHER_FINGERPRINT))) continue;
    const built = stageOwner(stage, images);
    const short = stage.Id.replace(/^sha256:/, "").slice(0, 12);
    if (!built || removedImages.has(built.Id)) {
      plan.remove.push({ kind: "build-stage", name: short, detail: built ? `launcher build stage of ${built.RepoTags?.[0] ?? built.Id}` : "launcher build stage whose image is gone" });
    } else if (uninstall) {
      plan.keep.push({ kind: "build-stage", name: short, detail: `build stage of ${built.RepoTags?.[0] ?? built.Id}, which stays` });
    }
  }

  // ── staged volumes ──
  for (const v of volumes) {
    if (v.Labels?.[STAGED_LABEL] === undefined) continue;
    if (!candidate(ours.volumes, current.volumes, v.Name)) {
      if (!uninstall && current.volumes.includes(v.Name)) plan.keep.push({ kind: "staged-volume", name: v.Name, detail: "this build's, used by the next sandbox" });
      continue;
    }
    const why = blocked(users.volumes.has(v.Name), "mounted by a container or a recorded sandbox");
    if (why) plan.keep.push({ kind: "staged-volume", name: v.Name, detail: why });
    else plan.remove.push({ kind: "staged-volume", name: v.Name, detail: `staged ${v.Labels[STAGED_LABEL]} (read-only, re-made on demand)` });
  }

  // ── host side ──
  const runDir = stateRunDir(stateDir);
  if (uninstall) {
    const health = await daemonHealth(stateDir).catch(() => undefined);
    if (health) plan.remove.push({ kind: "daemon", name: `pid ${health.pid}`, detail: `serves ${health.sandboxes.length} sandbox(es)` });
    if (await exists(runDir)) plan.remove.push({ kind: "run-dir", name: runDir, detail: "proxy sockets and CA certificates" });
    if (await exists(stateDir)) {
      const credentials = path.join(stateDir, "credentials.json");
      if (await exists(credentials)) {
        if (options.keepData) plan.keep.push({ kind: "credentials", name: credentials, detail: "--keep-data" });
        else plan.remove.push({ kind: "credentials", name: credentials, detail: "your stored keys (add them again with `credentials add`)" });
      }
      plan.remove.push({ kind: "state", name: stateDir, detail: options.keepData ? "everything but credentials.json" : "records, policies, CAs, logs, onboarding answers" });
    }
    return plan;
  }
  for (const entry of await readdir(runDir).catch(() => [] as string[])) {
    if (!recorded.has(entry)) plan.remove.push({ kind: "run-dir", name: path.join(runDir, entry), detail: "no sandbox of that name" });
  }
  const keepDigests = new Set([runtimeIdentity().digest.slice(0, 16)]);
  const health = await daemonHealth(stateDir).catch(() => undefined);
  if (health) keepDigests.add(health.digest.slice(0, 16));
  for (const entry of await readdir(path.join(stateDir, "runtime")).catch(() => [] as string[])) {
    if (!keepDigests.has(entry)) plan.remove.push({ kind: "staged-runtime", name: path.join(stateDir, "runtime", entry), detail: "another build's presets" });
  }
  return plan;
}

export type CleanupOutcome = { removed: CleanupItem[]; failed: Array<CleanupItem & { error: string }> };

/** Removes what the plan says, in an order that works (containers before their volumes and images). */
export async function applyCleanup(docker: Docker, options: CleanupOptions, plan: CleanupPlan, progress: (message: string) => void): Promise<CleanupOutcome> {
  const stateDir = path.resolve(options.stateDir);
  const outcome: CleanupOutcome = { removed: [], failed: [] };
  const order: CleanupKind[] = ["container", "volume", "daemon", "image", "build-stage", "staged-volume", "run-dir", "staged-runtime", "credentials", "state"];
  const items = [...plan.remove].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const volumesDone = new Set<string>();
  for (const item of items) {
    progress(`removing ${item.kind} ${item.name}`);
    try {
      switch (item.kind) {
        case "container":
          await docker.getContainer(item.name).remove({ force: true });
          break;
        case "volume": {
          // With a quota, the loop device is detached by a helper on the sandbox's image first.
          const sandbox = [...plan.sandboxes.keys()].find((n) => item.name === `nemoclaw-${n}-sandbox` || item.name === `nemoclaw-${n}-disk`);
          if (sandbox && !volumesDone.has(sandbox)) {
            volumesDone.add(sandbox);
            await removeSandboxVolumes(docker, { name: sandbox, image: plan.sandboxes.get(sandbox) ?? "" });
          }
          await docker.getVolume(item.name).remove().catch((e: { statusCode?: number }) => {
            if (e.statusCode !== 404) throw e;
          });
          break;
        }
        case "daemon":
          await stopDaemon(stateDir);
          break;
        case "image":
        case "build-stage":
          // A tag another tag shares an image with is only untagged; an untagged stage takes its
          // untagged parents (the stage's earlier steps) with it.
          await docker.getImage(item.name).remove();
          break;
        case "staged-volume":
          await docker.getVolume(item.name).remove();
          break;
        case "run-dir":
        case "staged-runtime":
          await rm(item.name, { recursive: true, force: true });
          break;
        case "credentials":
          await rm(item.name, { force: true });
          break;
        case "state":
          if (options.keepData) {
            for (const entry of await readdir(stateDir)) if (entry !== "credentials.json") await rm(path.join(stateDir, entry), { recursive: true, force: true });
          } else await rm(stateDir, { recursive: true, force: true });
          break;
      }
      outcome.removed.push(item);
    } catch (e) {
      outcome.failed.push({ ...item, error: (e as Error).message });
    }
  }
  return outcome;
}
