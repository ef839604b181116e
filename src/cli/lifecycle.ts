// `openclaw nemoclaw eject [name]`, `uninstall` and `gc`: leaving the sandbox, and leaving
// nemoclaw. The host config goes back through src/eject/host-config.ts; the sandbox's /sandbox,
// the engine's objects and the state dir through the runtime (`sandbox.export`, `cleanup`).
import path from "node:path";
import type { CleanupItem, CleanupResult, SandboxExportResult } from "../../blueprint/runtime/protocol.js";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { restoreHostConfig, type RestoreOutcome } from "../eject/host-config.js";
import { UserError } from "../errors.js";
import { openclawPackageDir } from "../openclaw-package.js";
import { printJson, renderFields } from "./output.js";
import { checkName, progressPrinter, target } from "./sandbox.js";

export type EjectOpts = { export?: string; destroy?: boolean; yes?: boolean; json?: boolean };
export type UninstallOpts = { keepData?: boolean; yes?: boolean; json?: boolean };

function describeRestore(r: RestoreOutcome): string {
  switch (r.action) {
    case "restored":
      return `restored byte for byte from the snapshot taken at onboarding`;
    case "merged":
      return `restored from the snapshot, with your later changes merged in: ${r.merged.join(", ")}`;
    case "removed":
      return "no onboarding snapshot: only nemoclaw's launch setting was taken out";
    case "unchanged":
      return "already free of nemoclaw's settings: nothing written";
    case "no-file":
      return "the file does not exist (removed since onboarding): nothing written";
  }
}

function restoreFields(r: RestoreOutcome): Array<[string, string]> {
  return [
    ["Host config", `${r.file}: ${describeRestore(r)}`],
    ...(r.backup ? ([["Backup", `${r.backup} (what was there before)`]] as Array<[string, string]>) : []),
  ];
}

/**
 * Stop sandboxing: the gateway stops (relay and container; the sandbox stays, stopped, so
 * onboard or `launch enable` + `start` undo this), /sandbox is exported when asked, and the
 * operator's OpenClaw config goes back to its pre-onboarding self. `--destroy` removes the sandbox.
 */
export async function eject(config: ResolvedConfig, name: string | undefined, opts: EjectOpts): Promise<void> {
  const sandbox = checkName(name ?? config.launch?.sandbox ?? config.defaultSandbox, []);
  if (opts.destroy && !opts.yes && !opts.export) {
    throw new UserError(`--destroy removes sandbox ${sandbox} with its /sandbox volume`, `add --export DIR to keep a copy of /sandbox, or --yes to destroy it as it is`);
  }
  const exportDir = opts.export === undefined ? undefined : path.resolve(opts.export);
  const onProgress = progressPrinter(opts.json);
  const list = await runBlueprint({ command: "sandbox.list", ...target(config) }, (p) => p.SandboxListResultSchema);
  const known = list.sandboxes.find((s) => s.name === sandbox);
  if (!known && (exportDir || opts.destroy)) throw new UserError(`no sandbox named "${sandbox}" to export or destroy`, `known: ${list.sandboxes.map((s) => s.name).join(", ") || "none"}`);

  let stopped = "no such sandbox: nothing to stop";
  if (known) {
    const r = await runBlueprint({ command: "gateway.stop", ...target(config), name: sandbox }, (p) => p.GatewayStopResultSchema, { onProgress });
    stopped = r.wasRunning || r.relayClosed ? "stopped (relay closed, container stopped; kept)" : "was not running (kept)";
  }
  let exported: SandboxExportResult | undefined;
  if (exportDir) {
    exported = await runBlueprint({ command: "sandbox.export", ...target(config), name: sandbox, dir: exportDir }, (p) => p.SandboxExportResultSchema, { onProgress });
  }
  const restore = await restoreHostConfig(config.stateDir);
  let destroyed: string[] | undefined;
  if (opts.destroy) {
    destroyed = (await runBlueprint({ command: "sandbox.destroy", ...target(config), name: sandbox, yes: true }, (p) => p.SandboxDestroyResultSchema)).removed;
  }

  if (opts.json) {
    printJson({ ok: true, name: sandbox, gateway: stopped, export: exported ?? null, hostConfig: restore, destroyed: destroyed ?? null });
    return;
  }
  const fields: Array<[string, string]> = [["Gateway", stopped], ...restoreFields(restore)];
  if (exported) {
    fields.push(["Exported", `${exported.files} files, ${exported.directories} folders, ${exported.bytes} bytes to ${exported.dir}`]);
    if (exported.skipped.length > 0) fields.push(["Not exported", exported.skipped.map((s) => `${s.path} (${s.why})`).slice(0, 10).join("; ") + (exported.skipped.length > 10 ? `; … ${exported.skipped.length - 10} more (--json lists all)` : "")]);
  }
  fields.push(
    destroyed
      ? ["Sandbox", `destroyed: ${destroyed.join(", ")}`]
      : ["Sandbox", known ? `${sandbox} kept, stopped; to sandbox again: openclaw nemoclaw onboard --name ${sandbox}; to remove it: openclaw nemoclaw ${sandbox} destroy --yes` : "none"],
  );
  process.stdout.write(`${renderFields(`Ejected: \`openclaw gateway\` runs on the host again, unsandboxed`, fields)}\n`);
}

function cleanupRequest(config: ResolvedConfig, mode: "uninstall" | "gc", keepData: boolean, apply: boolean) {
  const openclawDir = openclawPackageDir();
  return {
    command: "cleanup" as const,
    ...target(config),
    mode,
    keepData,
    apply,
    ...(config.baseImage ? { baseImage: config.baseImage } : {}),
    ...(openclawDir ? { openclawDir } : {}),
  };
}

function itemLines(items: readonly CleanupItem[]): string[] {
  return items.map((i) => `    ${i.kind} ${i.name} — ${i.detail}`);
}

function renderCleanup(heading: string, r: CleanupResult, extra: Array<[string, string]> = []): string {
  const lines = [renderFields(heading, extra)];
  const done = r.applied ? r.removed : r.remove;
  lines.push("", `  ${r.applied ? "Removed" : "Would remove"}: ${done.length === 0 ? "nothing" : ""}`, ...itemLines(done));
  if (r.failed.length > 0) lines.push("", "  Failed:", ...r.failed.map((f) => `    ${f.kind} ${f.name} — ${f.error}`));
  if (r.keep.length > 0) lines.push("", "  Kept:", ...itemLines(r.keep));
  return `${lines.join("\n")}\n`;
}

async function confirm(message: string): Promise<boolean> {
  const prompts = await import("@clack/prompts");
  const answer = await prompts.confirm({ message, initialValue: false });
  return answer === true;
}

/**
 * Everything nemoclaw made for this state dir goes (cleanup.ts says what exactly), after the host
 * config is restored as eject does. Without --yes: the summary and what to type (or, on a
 * terminal, a confirmation); nothing is removed.
 */
export async function uninstall(config: ResolvedConfig, opts: UninstallOpts): Promise<void> {
  const keepData = Boolean(opts.keepData);
  const onProgress = progressPrinter(opts.json);
  if (!opts.yes) {
    const plan = await runBlueprint(cleanupRequest(config, "uninstall", keepData, false), (p) => p.CleanupResultSchema, { onProgress });
    const retry = `openclaw nemoclaw uninstall${keepData ? " --keep-data" : ""} --yes`;
    const interactive = !opts.json && Boolean(process.stdin.isTTY && process.stdout.isTTY);
    if (opts.json) printJson({ ok: true, hostConfig: "restored like eject when applied", ...plan, next: retry });
    else process.stdout.write(renderCleanup("Uninstall nemoclaw: nothing removed yet", plan, [["Host config", "restored first, as `eject` does (a backup is kept beside it)"], ["To go ahead", retry]]));
    if (!interactive || !(await confirm("Remove all of the above?"))) {
      if (interactive) process.stdout.write("Nothing removed.\n");
      return;
    }
  }
  const restore = await restoreHostConfig(config.stateDir);
  const result = await runBlueprint(cleanupRequest(config, "uninstall", keepData, true), (p) => p.CleanupResultSchema, { onProgress });
  if (result.failed.length > 0) process.exitCode = 1;
  if (opts.json) {
    printJson({ ok: result.failed.length === 0, hostConfig: restore, ...result });
    return;
  }
  process.stdout.write(
    renderCleanup(`Uninstalled nemoclaw${result.failed.length > 0 ? " (with failures)" : ""}`, result, [
      ...restoreFields(restore),
      ["The plugin", "still installed in OpenClaw; remove it with `openclaw plugins uninstall nemoclaw`"],
    ]),
  );
}

/** Removes what nothing uses any more (cleanup.ts, gc); never a /sandbox volume. */
export async function gc(config: ResolvedConfig, opts: { json?: boolean }): Promise<void> {
  const result = await runBlueprint(cleanupRequest(config, "gc", false, true), (p) => p.CleanupResultSchema, { onProgress: progressPrinter(opts.json) });
  if (result.failed.length > 0) process.exitCode = 1;
  if (opts.json) printJson({ ok: result.failed.length === 0, ...result });
  else process.stdout.write(renderCleanup("Garbage collected", result));
}
