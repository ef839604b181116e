// Test fixture: the sandbox image, built once per run on the local base image
// (no registry is reachable in CI, so the base comes from
// scripts/build-base-image.sh, which this runs when the base is missing).
import path from "node:path";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { execa } from "execa";
import { buildSandboxImage, imageExists, type ImageBuildEvent } from "../../blueprint/sandbox/image.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BASE_IMAGE = process.env.NEMOCLAW_BASE_IMAGE ?? "nemoclaw-base:bookworm-node24";

export function dockerClient(): Docker {
  return new Docker();
}

export async function ensureBaseImage(docker: Docker): Promise<{ tag: string; seconds: number }> {
  const started = performance.now();
  if (!(await imageExists(docker, BASE_IMAGE))) {
    await execa("bash", [path.join(REPO_ROOT, "scripts/build-base-image.sh")], {
      env: { NEMOCLAW_BASE_IMAGE: BASE_IMAGE },
      stdout: "inherit",
      stderr: "inherit",
    });
  }
  return { tag: BASE_IMAGE, seconds: (performance.now() - started) / 1000 };
}

let sandboxImage: Promise<string> | undefined;

/** Tag of the sandbox image on the test base; built at most once per process. */
export function ensureSandboxImage(docker: Docker, onProgress?: (event: ImageBuildEvent) => void): Promise<string> {
  sandboxImage ??= (async () => {
    await ensureBaseImage(docker);
    const { tag } = await buildSandboxImage({ docker, baseImage: BASE_IMAGE, onProgress });
    return tag;
  })();
  return sandboxImage;
}
