import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { TestProject } from "vitest/node";
import { node24Bin, repoRoot } from "./node24.js";

/**
 * Once per run: build the plugin if needed (scripts/test.sh always builds first) and pack it,
 * so integration tests install exactly what `npm publish` would ship.
 */
export default async function setup(project: TestProject): Promise<void> {
  const env = { PATH: `${node24Bin()}:${process.env.PATH ?? ""}` };
  if (!existsSync(path.join(repoRoot, "dist/blueprint/blueprint.yaml"))) {
    await execa("npm", ["run", "build"], { cwd: repoRoot, env, stdio: "inherit" });
  }
  const dest = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-pack-"));
  const { stdout } = await execa("npm", ["pack", "--silent", "--pack-destination", dest], { cwd: repoRoot, env });
  project.provide("pluginTarball", path.join(dest, stdout.trim().split("\n").pop() ?? ""));
}

declare module "vitest" {
  export interface ProvidedContext {
    pluginTarball: string;
  }
}
