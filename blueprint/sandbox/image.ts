// Builds the sandbox image from blueprint/Dockerfile through the Docker Engine
// API. The tag carries a hash of the build context and the base image, so a
// changed Dockerfile or launcher source gives a new tag and therefore a
// rebuild, while an unchanged one is reused as is.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { compiledBlueprintDir } from "../state/runtime-files.js";
import { RuntimeError } from "../state/runtime-error.js";
import { isNotFound } from "./docker-client.js";

export const DEFAULT_BASE_IMAGE = "node:24-bookworm-slim";
export const DEFAULT_IMAGE_REPOSITORY = "nemoclaw-sandbox";
/** Where the Dockerfile puts the launcher; the container spec runs it from here. */
export const LAUNCHER_PATH = "/usr/local/lib/nemoclaw/landlock-exec";
/** Where the Dockerfile puts the egress forwarder the supervisor runs (supervisor/egress-forwarder.c). */
export const FORWARDER_PROGRAM = "/usr/local/lib/nemoclaw/egress-forwarder";

const LOG_TAIL_LINES = 20;

export type ImageBuildEvent =
  | { type: "step"; index: number; total: number; instruction: string }
  | { type: "output"; line: string }
  | { type: "status"; message: string }
  | { type: "done"; tag: string; imageId: string | undefined };

export interface BuildSandboxImageOptions {
  docker: Docker;
  /** Image the Dockerfile starts from (build arg BASE_IMAGE). */
  baseImage?: string;
  /** Folder holding Dockerfile and supervisor/. Defaults to this package's blueprint/. */
  blueprintDir?: string;
  repository?: string;
  /** Build even when an image with the context's tag exists. */
  force?: boolean;
  onProgress?: (event: ImageBuildEvent) => void;
  signal?: AbortSignal;
}

export interface SandboxImage {
  tag: string;
  /** False when an image with this context hash already existed. */
  built: boolean;
}

/** A failed build: which Dockerfile step failed and what it printed last. */
export class ImageBuildError extends Error {
  readonly step: string | undefined;
  readonly logTail: readonly string[];

  constructor(message: string, step: string | undefined, logTail: readonly string[]) {
    const where = step ? ` at ${step}` : "";
    const tail = logTail.length > 0 ? `\n--- last ${logTail.length} lines ---\n${logTail.join("\n")}` : "";
    super(`image build failed${where}: ${message}${tail}`);
    this.name = "ImageBuildError";
    this.step = step;
    this.logTail = logTail;
  }
}

/**
 * Files sent as build context, relative to blueprintDir, in a stable order: the Dockerfile and
 * the native sources under supervisor/. The supervisor's JavaScript is mounted at run time, not
 * baked in, so changing it must not change the image tag.
 */
export async function buildContextFiles(blueprintDir: string): Promise<string[]> {
  const files = ["Dockerfile"];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(blueprintDir, rel), { withFileTypes: true });
    for (const entry of entries) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() && /\.[ch]$/.test(entry.name)) files.push(child);
    }
  };
  if (existsSync(path.join(blueprintDir, "supervisor"))) await walk("supervisor");
  return files.sort();
}

/** `<repository>:<12 hex>` over the base image name and every context file. */
export async function sandboxImageTag(options: {
  blueprintDir?: string;
  baseImage?: string;
  repository?: string;
}): Promise<string> {
  const dir = options.blueprintDir ?? compiledBlueprintDir();
  const hash = createHash("sha256");
  hash.update(`base\0${options.baseImage ?? DEFAULT_BASE_IMAGE}\0`);
  for (const file of await buildContextFiles(dir)) {
    hash.update(`file\0${file}\0`);
    hash.update(await readFile(path.join(dir, file)));
    hash.update("\0");
  }
  return `${options.repository ?? DEFAULT_IMAGE_REPOSITORY}:${hash.digest("hex").slice(0, 12)}`;
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Size in bytes as the daemon reports it (all layers, uncompressed). */
export async function imageSize(docker: Docker, tag: string): Promise<number> {
  const info = await docker.getImage(tag).inspect();
  return info.Size;
}

/** Builds the sandbox image unless one for the same context already exists. */
export async function buildSandboxImage(options: BuildSandboxImageOptions): Promise<SandboxImage> {
  const { docker, onProgress } = options;
  const blueprintDir = options.blueprintDir ?? compiledBlueprintDir();
  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  const tag = await sandboxImageTag({ blueprintDir, baseImage, repository: options.repository });
  if (!options.force && (await imageExists(docker, tag))) return { tag, built: false };

  const stream = await docker.buildImage(
    { context: blueprintDir, src: await buildContextFiles(blueprintDir) },
    {
      t: tag,
      buildargs: { BASE_IMAGE: baseImage },
      // dockerd runs without a default bridge here; the build stage's apt
      // needs the host's network to reach the Debian mirror.
      networkmode: "host",
      rm: true,
      forcerm: true,
      labels: { "nemoclaw.image": "sandbox", "nemoclaw.base-image": baseImage },
      ...(options.signal ? { abortSignal: options.signal } : {}),
    },
  );

  const tail: string[] = [];
  let step: string | undefined;
  let imageId: string | undefined;
  let failure: string | undefined;
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
  };

  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve()),
      (event: BuildStreamEvent) => {
        if (event.error !== undefined || event.errorDetail !== undefined) {
          failure = event.errorDetail?.message ?? event.error ?? "unknown error";
          return;
        }
        if (typeof event.aux?.ID === "string") imageId = event.aux.ID;
        if (typeof event.stream === "string") {
          for (const line of event.stream.split("\n")) {
            if (line.trim() === "") continue;
            remember(line);
            const match = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
            if (match) {
              step = `step ${match[1]}/${match[2]} (${match[3]})`;
              onProgress?.({ type: "step", index: Number(match[1]), total: Number(match[2]), instruction: match[3] ?? "" });
            } else {
              onProgress?.({ type: "output", line });
            }
          }
        } else if (typeof event.status === "string") {
          const message = event.progress ? `${event.status} ${event.progress}` : event.status;
          onProgress?.({ type: "status", message: event.id ? `${event.id}: ${message}` : message });
        }
      },
    );
  }).catch((error: unknown) => {
    throw new ImageBuildError(error instanceof Error ? error.message : String(error), step, tail);
  });

  if (failure !== undefined) throw new ImageBuildError(failure, step, tail);
  onProgress?.({ type: "done", tag, imageId });
  return { tag, built: true };
}

interface BuildStreamEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  aux?: { ID?: unknown };
  error?: string;
  errorDetail?: { message?: string };
}

export type Progress = (step: string, message: string, percent?: number) => void;

/** The sandbox image on `baseImage`, built if missing; failures as RuntimeErrors saying what to do. */
export async function ensureImage(docker: Docker, baseImage: string, progress: Progress): Promise<string> {
  try {
    let lastPercent = -1;
    const { tag, built } = await buildSandboxImage({
      docker,
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
