// The host's OpenClaw inside the sandbox: its package and its production dependencies, no more.
// Mounting the node_modules that holds it would also hand the sandbox every sibling package: in
// a development checkout, every devDependency and the test runner's cache (the transformed
// sources of the red-team tests). The closure is found the way Node resolves a bare import
// (each dependency looked up in node_modules folders from the requiring package upwards) and
// staged into a volume (staged-volume.ts) keyed by the OpenClaw version and the closure's
// name@version list, so an upgraded OpenClaw or a changed dependency gets a new one.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import type Docker from "dockerode";
import { RuntimeError } from "../state/runtime-error.js";
import type { WorkloadSeed } from "../supervisor/workload-seed.js";
import { PROXY_URL } from "./container-spec.js";
import { GATEWAY_CONFIG } from "./gateway-inside.js";
import { ensureStagedVolume } from "./staged-volume.js";

/** Where the staged node_modules appears inside. */
export const OPENCLAW_MOUNT = "/opt/openclaw";
export const OPENCLAW_NODE_MODULES = `${OPENCLAW_MOUNT}/node_modules`;

interface PackageJson {
  name?: string;
  version?: string;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

// The walk reads a few hundred small package.json files. Synchronous reads: one at a time through
// the thread pool, the same walk took 130–180 ms of every create; read directly, a few ms.
function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as PackageJson;
}

export interface OpenclawClosure {
  /** The folder everything is relative to: the node_modules holding OpenClaw (else its parent). */
  root: string;
  /** Package folders relative to `root` ("openclaw", "chalk", "openclaw/node_modules/x"), sorted. */
  packages: string[];
  version: string;
  /** The entry script inside the sandbox. */
  entry: string;
  /** Names the staged volume: the version and a digest of every package's place and name@version. */
  key: string;
}

/** OpenClaw at `hostDir` and every package it needs at run time (dependencies, installed optional and peer ones). */
export async function openclawClosure(hostDir: string): Promise<OpenclawClosure> {
  if (!existsSync(path.join(hostDir, "package.json"))) throw new RuntimeError("openclaw-missing", `no OpenClaw package at ${hostDir}`, "reinstall OpenClaw");
  const top = realpathSync.native(hostDir);
  const pkg = readPackage(top);
  // npm hoists OpenClaw's dependencies next to it (a local install) or nests them inside it (a
  // global one). The root maps to /opt/openclaw/node_modules, so both layouts keep their shape.
  const root = path.dirname(top);
  // Lookups go no higher than the node_modules holding OpenClaw, or OpenClaw itself.
  const limit = path.basename(root) === "node_modules" ? path.dirname(root) : top;
  const found = new Map<string, string>();
  const queue: string[] = [top];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    const rel = path.relative(root, dir);
    if (found.has(rel)) continue;
    const p = readPackage(dir);
    found.set(rel, `${p.name ?? rel}@${p.version ?? "?"}`);
    const required = Object.keys(p.dependencies ?? {});
    // Optional and peer dependencies come along when they are installed.
    const optional = [...Object.keys(p.optionalDependencies ?? {}), ...Object.keys(p.peerDependencies ?? {})];
    for (const dep of new Set([...required, ...optional])) {
      const at = resolvePackage(dir, dep, root, limit);
      if (at) queue.push(at);
      else if (required.includes(dep) && !optional.includes(dep)) {
        throw new RuntimeError("openclaw-incomplete", `${p.name ?? dir} needs ${dep}, which is not installed under ${root}`, "reinstall OpenClaw (`npm install -g openclaw`)");
      }
    }
  }
  const packages = [...found.keys()].sort();
  const bin = typeof pkg.bin === "string" ? pkg.bin : (pkg.bin?.openclaw ?? "openclaw.mjs");
  const version = pkg.version ?? "unknown";
  const digest = createHash("sha256").update(packages.map((rel) => `${rel} ${found.get(rel)}\n`).join("")).digest("hex").slice(0, 12);
  return {
    root,
    packages,
    version,
    entry: path.posix.join(OPENCLAW_NODE_MODULES, path.basename(top), bin),
    key: `${version.replace(/[^A-Za-z0-9_.-]/g, "_")}-${digest}`,
  };
}

/** Where Node finds `name` from `fromDir`: node_modules folders upwards, up to `limit`; must be under `root`. */
function resolvePackage(fromDir: string, name: string, root: string, limit: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== "node_modules") {
      const candidate = path.join(dir, "node_modules", name);
      if (existsSync(path.join(candidate, "package.json"))) {
        const real = realpathSync.native(candidate);
        if (!real.startsWith(`${root}${path.sep}`)) {
          throw new RuntimeError("openclaw-layout", `${name} resolves to ${real}, outside ${root}`, "install OpenClaw with npm (a linked or pnpm layout cannot be staged)");
        }
        return real;
      }
    }
    if (dir === limit || path.dirname(dir) === dir) return undefined;
  }
}

export function openclawVolumeName(key: string): string {
  return `nemoclaw-openclaw-${key}`;
}

/** The closure staged into its volume (filled now unless it already is); returns the volume name. */
export async function stageOpenclaw(docker: Docker, image: string, closure: OpenclawClosure, memo?: string): Promise<string> {
  const name = openclawVolumeName(closure.key);
  const nested = new Set(closure.packages.map((rel) => path.join(closure.root, rel, "node_modules")));
  await ensureStagedVolume(docker, {
    name,
    kind: "openclaw",
    image,
    cwd: closure.root,
    entries: closure.packages,
    // A package's own node_modules holds its private dependencies: those needed are in the
    // closure as packages of their own, the rest (and .bin, and caches) stay out.
    skip: (p) => nested.has(p),
    ...(memo === undefined ? {} : { memo }),
  });
  return name;
}

/**
 * The config OpenClaw run by the agent finds (~/.openclaw/openclaw.json under /sandbox): its fetch,
 * http and WebSocket clients use the forwarder. The supervisor writes it before the workload
 * starts, unless it exists (supervisor/workload-seed.ts).
 */
export function openclawProxySeed(): WorkloadSeed {
  return {
    // OpenClaw's default config under HOME: the same file a gateway sandbox's gateway reads.
    path: GATEWAY_CONFIG,
    content: `// Written by nemoclaw when the sandbox was created. OpenClaw's own HTTP and WebSocket\n// traffic goes through the sandbox's forwarder to the host's egress gateway.\n${JSON.stringify({ proxy: { proxyUrl: PROXY_URL } }, null, 2)}\n`,
  };
}
