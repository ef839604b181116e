import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { inject } from "vitest";
import { stopDaemon } from "../../blueprint/runtime/daemon-client.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "./docker-images.js";
import { node24Bin, repoRoot } from "./node24.js";

/** A throwaway OpenClaw home: HOME and OPENCLAW_STATE_DIR in a temp dir, Node 24 first on PATH. */
export type CliResult = { exitCode: number | undefined; stdout: string; stderr: string; all: string };

export type OpenclawHome = {
  dir: string;
  env: Record<string, string>;
  /** `env`: extra variables for this call only. */
  run: (args: readonly string[], opts?: { input?: string; timeoutMs?: number; env?: Record<string, string> }) => Promise<CliResult>;
  /** A call that runs until stopped (`logs --follow`): read its stdout as it comes, then kill it. */
  start: (args: readonly string[]) => ResultPromise<{ reject: false; stdin: "ignore" }>;
  dispose: () => Promise<void>;
};

export async function createOpenclawHome(): Promise<OpenclawHome> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-oc-"));
  // A clean environment: OpenClaw goes quiet when it sees vitest's variables (VITEST=true).
  const env: Record<string, string> = {
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    ...(process.env.NEMOCLAW_BASE_IMAGE ? { NEMOCLAW_BASE_IMAGE: process.env.NEMOCLAW_BASE_IMAGE } : {}),
    // The machine's trust settings (a TLS-inspecting registry mirror needs them for plugin installs).
    ...Object.fromEntries(
      ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
    ),
    LANG: "C.UTF-8",
    HOME: dir,
    OPENCLAW_STATE_DIR: path.join(dir, "state"),
    PATH: `${node24Bin()}:${process.env.PATH ?? ""}`,
    NO_COLOR: "1",
    CI: "1",
  };
  const bin = path.join(repoRoot, "node_modules/.bin/openclaw");
  return {
    dir,
    env,
    run: async (args, opts = {}) => {
      const r = await execa(bin, [...args], {
        env: { ...env, ...opts.env },
        extendEnv: false,
        reject: false,
        all: true,
        timeout: opts.timeoutMs ?? 240_000,
        ...(opts.input === undefined ? { stdin: "ignore" as const } : { input: opts.input }),
      });
      return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), all: String(r.all) };
    },
    start: (args) => execa(bin, [...args], { env, extendEnv: false, reject: false, stdin: "ignore" }),
    // Retries: a process this home started (OpenClaw's own workers) may still be writing into it.
    dispose: () => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }),
  };
}

/** Install the packed plugin (what `npm publish` would ship) into this OpenClaw home. */
export async function installPlugin(home: OpenclawHome): Promise<CliResult> {
  const tgz = inject("pluginTarball");
  const result = await home.run(["plugins", "install", tgz, "--force", "--accept-capabilities"], { timeoutMs: 300_000 });
  if (result.exitCode !== 0) throw new Error(`plugin install failed:\n${result.all}`);
  return result;
}

export type PluginHome = OpenclawHome & {
  /** nemoclaw's state dir in this home. */
  stateDir: string;
  /** Destroys the named sandboxes, stops the daemon and removes the home. */
  teardown: (sandboxes: readonly string[]) => Promise<void>;
};

/** An OpenClaw home with the packed plugin installed and the sandbox image ready: what every CLI suite starts from. */
export async function createPluginHome(): Promise<PluginHome> {
  process.env.NEMOCLAW_BASE_IMAGE ??= BASE_IMAGE;
  await ensureSandboxImage(dockerClient());
  const home = await createOpenclawHome();
  await installPlugin(home);
  const stateDir = path.join(home.env.OPENCLAW_STATE_DIR ?? "", "nemoclaw");
  return {
    ...home,
    stateDir,
    teardown: async (sandboxes) => {
      for (const name of sandboxes) await home.run(["nemoclaw", name, "destroy", "--yes"]);
      await stopDaemon(stateDir).catch(() => undefined);
      await home.dispose();
    },
  };
}
