import { mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import type { z } from "zod";
import type { ProgressMessage } from "../../blueprint/runtime/protocol.js";

type Protocol = typeof import("../../blueprint/runtime/protocol.js");
import { UserError } from "../errors.js";
import { blueprintDir as defaultBlueprintDir, packageVersion } from "../package-root.js";
import { openclawVersion } from "../openclaw-package.js";
import { describeProblem, verifyBlueprint } from "./verify.js";
import { compareVersions } from "./versions.js";

export type RunOptions = {
  blueprintDir?: string;
  onProgress?: (p: ProgressMessage) => void;
  /** Extra environment for the runtime; the rest of the plugin's environment is passed through. */
  env?: Record<string, string>;
  /**
   * "inherit": the runtime gets this process's stdin, stdout and stderr (a terminal stays a
   * terminal: exec, connect, logs) and answers on file descriptor 3 instead of stdout.
   */
  stdio?: "protocol" | "inherit";
  /** Written to the runtime's stdin (protocol stdio only): how a secret reaches it without ever being an argv value. */
  input?: string;
  /** Pass SIGINT/SIGTERM/SIGHUP on to the runtime (a foreground verb that stops on them) instead of dying first. */
  forwardSignals?: boolean;
};

/** The runtime's fd for protocol lines when its stdio is inherited (blueprint/runtime/protocol.ts). */
const PROTOCOL_FD = 3;

const verified = new Set<string>();

/** Refuse to go on unless the blueprint on disk is exactly what the build sealed, and fits this plugin and Node. */
export async function assertBlueprintVerified(dir = defaultBlueprintDir): Promise<void> {
  if (verified.has(dir)) return;
  const result = await verifyBlueprint(dir);
  if (!result.ok || !result.manifest) {
    throw new UserError(
      `The nemoclaw runtime in ${dir} failed verification; refusing to run it.`,
      "Reinstall the plugin (`openclaw plugins install nemoclaw --force`), or rebuild it (`npm run build`) if you are developing it.",
      result.problems.map(describeProblem),
    );
  }
  const m = result.manifest;
  if (compareVersions(packageVersion, m.min_plugin_version) < 0) {
    throw new UserError(
      `The nemoclaw runtime ${m.version} needs plugin ≥ ${m.min_plugin_version}; this plugin is ${packageVersion}.`,
      "Reinstall nemoclaw so the plugin and runtime come from the same release.",
    );
  }
  const openclaw = openclawVersion();
  if (openclaw !== undefined && compareVersions(openclaw, m.min_openclaw_version) < 0) {
    throw new UserError(
      `The nemoclaw runtime ${m.version} needs OpenClaw ≥ ${m.min_openclaw_version}; this is OpenClaw ${openclaw}.`,
      "Update OpenClaw (`npm install -g openclaw@latest`), then run the command again.",
    );
  }
  if (compareVersions(process.versions.node, m.min_node_version) < 0) {
    throw new UserError(
      `The nemoclaw runtime needs Node ≥ ${m.min_node_version}; this is ${process.versions.node}.`,
      "Install Node 24 and run OpenClaw with it.",
    );
  }
  verified.add(dir);
}

/**
 * Node's compile cache for the runtime, in the operator's state dir: the runtime is about 3 MB of
 * bundled code, and compiling it is most of a verb's start-up (docs/architecture.md, "CLI speed").
 * Not in the shared os.tmpdir(), where another local user could plant code cache. Node keys it by
 * each file's content, so a new blueprint never runs stale code; NODE_DISABLE_COMPILE_CACHE wins.
 */
function compileCacheEnv(request: Record<string, unknown>): Record<string, string> {
  if (typeof request.stateDir !== "string" || process.env.NODE_DISABLE_COMPILE_CACHE !== undefined) return {};
  const dir = path.join(request.stateDir, "compile-cache");
  // Made here, 0700 like every folder the runtime makes, so Node does not make the state dir 0755.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { NODE_COMPILE_CACHE: dir };
}

/**
 * Run one runtime command as a subprocess and return its validated result.
 * The protocol schema is imported only after verification, so no blueprint code runs unverified.
 */
export async function runBlueprint<T>(
  request: Record<string, unknown>,
  resultSchema: (protocol: Protocol) => z.ZodType<T>,
  opts: RunOptions = {},
): Promise<T> {
  const dir = opts.blueprintDir ?? defaultBlueprintDir;
  await assertBlueprintVerified(dir);
  const protocol = (await import(pathToFileURL(path.join(dir, "runtime", "protocol.js")).href)) as Protocol;
  const { MessageSchema } = protocol;

  const inherit = opts.stdio === "inherit";
  const args = [path.join(dir, "runtime", "main.js"), JSON.stringify(request)];
  const env = { ...compileCacheEnv(request), ...opts.env };
  const child = inherit
    ? execa(process.execPath, args, {
        reject: false,
        stdio: ["inherit", "inherit", "inherit", "pipe"],
        lines: false,
        env: { ...env, NEMOCLAW_PROTOCOL_FD: String(PROTOCOL_FD) },
      })
    : execa(process.execPath, args, {
        reject: false,
        ...(opts.input === undefined ? { stdin: "ignore" as const } : { input: opts.input }),
        stderr: "pipe",
        lines: false,
        env,
      });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  const forwarded = opts.forwardSignals ? (["SIGINT", "SIGTERM", "SIGHUP"] as const) : [];
  for (const signal of forwarded) process.on(signal, forward);
  void child.finally(() => {
    for (const signal of forwarded) process.off(signal, forward);
  });
  const messages = (inherit ? child.stdio[PROTOCOL_FD] : child.stdout) as NodeJS.ReadableStream & { setEncoding(e: string): void } | null;
  let result: { data: unknown } | undefined;
  let error: { message: string; hint?: string | undefined; details?: string[] | undefined; code: string } | undefined;
  let buffer = "";
  const protocolErrors: string[] = [];
  messages?.setEncoding("utf8");
  messages?.on("data", (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      let parsed;
      try {
        parsed = MessageSchema.safeParse(JSON.parse(line));
      } catch {
        protocolErrors.push(`not JSON: ${line.slice(0, 200)}`);
        continue;
      }
      if (!parsed.success) {
        protocolErrors.push(`unexpected message: ${line.slice(0, 200)}`);
        continue;
      }
      const m = parsed.data;
      if (m.type === "progress") opts.onProgress?.(m);
      else if (m.type === "result") result = { data: m.data };
      else error = m;
    }
  });
  const done = await child;
  if (error) throw new UserError(error.message, error.hint, error.details ?? []);
  if (result && protocolErrors.length === 0) {
    const checked = resultSchema(protocol).safeParse(result.data);
    if (checked.success) return checked.data;
    protocolErrors.push(`result does not match what the plugin expects: ${checked.error.issues[0]?.message}`);
  }
  const stderrTail = inherit ? [] : String(done.stderr ?? "").trim().split("\n").slice(-10);
  throw new UserError(
    `The nemoclaw runtime ended without a valid answer (exit code ${done.exitCode ?? done.signal}).`,
    "This is a bug; please report it with the lines below.",
    [...protocolErrors, ...stderrTail],
  );
}
