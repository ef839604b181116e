// `openclaw nemoclaw sandbox create|list` and the per-sandbox verbs
// (`openclaw nemoclaw <name> status|connect|exec|logs|stop|start|destroy|policy`). Everything
// here asks the runtime; nothing talks to Docker directly.
import type { ProgressMessage, SandboxStatusResult } from "../../blueprint/runtime/protocol.js";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { SandboxNameSchema } from "../config/schema.js";
import { parseSize } from "../config/size.js";
import { UserError } from "../errors.js";
import { openclawPackageDir } from "../openclaw-package.js";
import { printJson, renderFields } from "./output.js";
import { egressLogs, sandboxPolicy } from "./egress.js";
import { inferenceGet, inferenceLogs, inferenceSet } from "./inference.js";

type Json = { json?: boolean };

export function target(config: ResolvedConfig): { stateDir: string; dockerHost?: string } {
  return { stateDir: config.stateDir, ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}) };
}

/** Progress for people: one line per step on stderr (stdout stays for the result). */
export function progressPrinter(json: boolean | undefined): ((p: ProgressMessage) => void) | undefined {
  if (json) return undefined;
  return (p) => process.stderr.write(`  [${p.step}] ${p.message}${p.percent !== undefined && p.step === "image" ? ` (${p.percent}%)` : ""}\n`);
}

export function checkName(name: string, reserved: readonly string[]): string {
  const parsed = SandboxNameSchema.safeParse(name);
  if (!parsed.success) throw new UserError(`"${name}" is not a valid sandbox name`, parsed.error.issues[0]?.message);
  if (reserved.includes(name)) {
    throw new UserError(`"${name}" is a nemoclaw verb and cannot name a sandbox`, `pick another name; reserved: ${reserved.join(", ")}`);
  }
  return name;
}

/** "2g", "512m", "1.5GiB", "1073741824" → bytes. */
export function parseMemory(text: string): number {
  const bytes = parseSize(text);
  if (Number.isNaN(bytes)) throw new UserError(`--memory ${text}: not a size`, "write e.g. 512m or 2g");
  if (bytes < 64 * 1024 ** 2) throw new UserError(`--memory ${text}: too small`, "a sandbox needs at least 64m (OpenClaw itself wants about 1g)");
  return bytes;
}

/** "10g", "512m" → bytes; "0" → no limit. */
export function parseDisk(text: string): number {
  const bytes = parseSize(text);
  if (Number.isNaN(bytes)) throw new UserError(`--disk ${text}: not a size`, "write e.g. 10g or 512m, or 0 for no limit");
  if (bytes !== 0 && bytes < 16 * 1024 ** 2) throw new UserError(`--disk ${text}: too small`, "give at least 16m, or 0 for no limit");
  return bytes;
}

/** "1", "0.5" → Docker NanoCpus. */
export function parseCpus(text: string): number {
  const cpus = Number(text);
  if (!Number.isFinite(cpus) || cpus <= 0 || cpus > 1024) throw new UserError(`--cpus ${text}: not a CPU count`, "write e.g. 1 or 0.5");
  return Math.round(cpus * 1e9);
}

function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${Number(gib.toFixed(2))} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

function formatLimits(l: { memoryBytes: number; nanoCpus: number; pids: number; tmpfsBytes: number; diskBytes: number }): string {
  const cpus = l.nanoCpus / 1e9;
  const disk = l.diskBytes > 0 ? `/sandbox ${formatBytes(l.diskBytes)} (quota)` : "/sandbox no size limit";
  return `memory ${formatBytes(l.memoryBytes)} (no swap), ${cpus} CPU${cpus === 1 ? "" : "s"}, ${l.pids} processes, /tmp ${formatBytes(l.tmpfsBytes)}, ${disk}`;
}

// ── sandbox create / list ────────────────────────────────────────────────────────────────────

export async function sandboxCreate(
  config: ResolvedConfig,
  nameArg: string | undefined,
  opts: Json & { policy?: string; preset?: string; memory?: string; cpus?: string; disk?: string; gateway?: boolean },
  reserved: readonly string[],
): Promise<void> {
  const name = checkName(nameArg ?? config.defaultSandbox, reserved);
  const presets = (opts.preset ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const openclawDir = openclawPackageDir();
  const result = await runBlueprint(
    {
      command: "sandbox.create",
      ...target(config),
      name,
      baseImage: config.baseImage,
      presets,
      ...(opts.policy ? { policyFile: (await import("node:path")).resolve(opts.policy) } : {}),
      ...(opts.memory ? { memoryBytes: parseMemory(opts.memory) } : {}),
      ...(opts.cpus ? { nanoCpus: parseCpus(opts.cpus) } : {}),
      diskBytes: opts.disk !== undefined ? parseDisk(opts.disk) : config.sandboxDiskBytes,
      ...(openclawDir ? { openclawDir } : {}),
      ...(opts.gateway ? { gateway: true } : {}),
    },
    (p) => p.SandboxCreateResultSchema,
    { onProgress: progressPrinter(opts.json) },
  );
  if (opts.json) {
    printJson({ ok: true, ...result });
    return;
  }
  const policy = `${result.policyFile}${result.presets.length ? ` (presets: ${result.presets.join(", ")})` : ""}`;
  process.stdout.write(
    `${renderFields(`Sandbox ${result.name} created and running`, [
      ["Image", result.image],
      ["Volume", `${result.volume} at /sandbox`],
      ["Policy", policy],
      ["OpenClaw", result.openclaw ? `${result.openclaw}, mounted read-only` : "not mounted (OpenClaw's package was not found)"],
      ["Limits", formatLimits(result.limits)],
      ["State", result.stateDir],
    ])}\n\n  Next: openclaw nemoclaw ${result.name} status\n`,
  );
}

export async function sandboxList(config: ResolvedConfig, opts: Json): Promise<void> {
  const { sandboxes } = await runBlueprint({ command: "sandbox.list", ...target(config) }, (p) => p.SandboxListResultSchema);
  if (opts.json) {
    printJson({ sandboxes });
    return;
  }
  if (sandboxes.length === 0) {
    process.stdout.write("Sandboxes\n\n  none yet\n\n  Next: openclaw nemoclaw sandbox create [name]\n");
    return;
  }
  const lines = ["Sandboxes", ""];
  for (const s of sandboxes) {
    lines.push(`  ${s.name}: ${s.state}, ${s.image}, created ${s.createdAt}${s.presets.length ? `, presets ${s.presets.join(",")}` : ""}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

// ── per-sandbox verbs ────────────────────────────────────────────────────────────────────────

/** The sandbox must exist: otherwise the runtime's "no sandbox named …; known sandboxes: …". */
async function assertKnown(config: ResolvedConfig, name: string): Promise<void> {
  const { sandboxes } = await runBlueprint({ command: "sandbox.list", ...target(config) }, (p) => p.SandboxListResultSchema);
  if (sandboxes.some((s) => s.name === name)) return;
  const known = sandboxes.map((s) => s.name);
  throw new UserError(
    `no sandbox named "${name}"`,
    known.length ? `known sandboxes: ${known.join(", ")}` : "there are no sandboxes yet; create one with `openclaw nemoclaw sandbox create <name>`",
  );
}

const CAPABILITIES = [
  "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
  "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
  "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
  "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
  "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
  "checkpoint_restore",
];

/** A /proc capability mask as "none" or its names. */
export function capabilityNames(hex: string): string {
  const mask = BigInt(`0x${hex || "0"}`);
  if (mask === 0n) return "none";
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) if (mask & (1n << BigInt(bit))) names.push(CAPABILITIES[bit] ?? `cap${bit}`);
  return names.join(",");
}

export function renderStatus(s: SandboxStatusResult): string {
  const fields: Array<[string, string]> = [
    ["Container", s.container ? `${s.container}${s.startedAt ? `, started ${s.startedAt}` : ""}` : "none (start recreates it from state)"],
    ["Image", s.image],
    ["OpenClaw", s.openclaw ?? "not mounted"],
    ["Policy", `${s.policy.file}${s.policy.presets.length ? ` (presets: ${s.policy.presets.join(", ")})` : ""}`],
    ["Egress", s.egress],
    ["Proxy socket", s.proxyGuard],
    ["Limits", formatLimits(s.limits)],
  ];
  const inside = s.inside;
  if (inside) {
    const w = inside.workload;
    if (w) {
      fields.push(
        ["Workload", `pid ${w.pid} \`${w.argv.join(" ")}\`, uid ${w.uid} gid ${w.gid}`],
        ["Seccomp", w.seccomp === 2 ? `filter (mode 2, ${w.seccompFilters} filter${w.seccompFilters === 1 ? "" : "s"})` : `NOT FILTERED (mode ${w.seccomp})`],
        ["NoNewPrivs", w.noNewPrivs === 1 ? "1" : `${w.noNewPrivs} (NOT SET)`],
        ["CapEff", `${w.capEff} (${capabilityNames(w.capEff)})`],
        ["CapBnd", `${w.capBnd} (${capabilityNames(w.capBnd)})`],
      );
    } else {
      fields.push(["Workload", "not found inside (the supervisor has no child)"]);
    }
    const l = inside.landlock;
    fields.push([
      "Landlock",
      l.abi === 0
        ? "not available on this kernel"
        : l.write === "EACCES"
          ? `ABI ${l.abi}, enforced (a write to ${l.probe} was refused: EACCES)`
          : `ABI ${l.abi}, NOT ENFORCED (a write to ${l.probe}: ${l.write})`,
    ]);
    const sup = inside.supervisor;
    if (sup) {
      fields.push([
        "Supervisor",
        `pid ${sup.pid}, uid ${sup.uid}, CapEff ${capabilityNames(sup.capEff)}; its environment is ${inside.environ.supervisor} to the workload`,
      ]);
    }
    const fwd = inside.forwarder;
    fields.push([
      "Forwarder",
      fwd
        ? `pid ${fwd.pid}, uid ${fwd.uid}, CapEff ${capabilityNames(fwd.capEff)}, no_new_privs ${fwd.noNewPrivs === 1 ? "set" : "NOT SET"}; its environment is ${inside.environ.forwarder} to the workload`
        : "not found inside: the workload has no way out",
    ]);
    const p = inside.proxySocket;
    fields.push([
      "Proxy socket inside",
      p.present ? `/run/nemoclaw/proxy.sock (mode ${p.mode}, uid ${p.uid}: only the supervisor's forwarder, holding the caller secret, is served)` : `missing (${p.error}): egress is closed`,
    ]);
    fields.push(["Mounts", inside.mounts.map((m) => `${m.target} ${m.options} (${m.type})`).join(", ")]);
  }
  return renderFields(`Sandbox ${s.name}: ${s.state}`, fields);
}

export async function sandboxVerb(
  config: ResolvedConfig,
  name: string,
  verb: string,
  opts: Json & {
    follow?: boolean; tail?: string; yes?: boolean; tty?: boolean; preset?: string; full?: boolean; egress?: boolean; inference?: boolean;
    provider?: string; model?: string; baseUrl?: string; credential?: string; allowPrivate?: boolean; port?: string;
  },
  rest: readonly string[],
): Promise<void> {
  const base = { ...target(config), name };
  switch (verb) {
    case "status": {
      const status = await runBlueprint({ command: "sandbox.status", ...base }, (p) => p.SandboxStatusResultSchema);
      if (opts.json) printJson(status);
      else process.stdout.write(`${renderStatus(status)}\n`);
      return;
    }
    case "start": {
      const r = await runBlueprint({ command: "sandbox.start", ...base }, (p) => p.SandboxStartResultSchema, {
        onProgress: progressPrinter(opts.json),
      });
      if (opts.json) printJson({ ok: true, ...r });
      else
        process.stdout.write(
          `${renderFields(`Sandbox ${name} ${r.alreadyRunning ? "was already running" : "started"}`, [
            ["Container", r.recreated ? "recreated from state (the /sandbox volume was kept)" : "kept"],
          ])}\n`,
        );
      return;
    }
    case "stop": {
      const r = await runBlueprint({ command: "sandbox.stop", ...base }, (p) => p.SandboxStopResultSchema);
      if (opts.json) printJson({ ok: true, ...r });
      else process.stdout.write(`Sandbox ${name} ${r.wasRunning ? "stopped" : "was not running"}\n\n  Next: openclaw nemoclaw ${name} start\n`);
      return;
    }
    case "destroy": {
      if (!opts.yes) {
        await assertKnown(config, name);
        throw new UserError(
          `destroying ${name} deletes its container, its /sandbox volume and its state; nothing can be recovered`,
          `run \`openclaw nemoclaw ${name} destroy --yes\` to confirm`,
        );
      }
      const r = await runBlueprint({ command: "sandbox.destroy", ...base, yes: true }, (p) => p.SandboxDestroyResultSchema);
      if (opts.json) printJson({ ok: true, ...r });
      else process.stdout.write(`${renderFields(`Sandbox ${name} destroyed`, r.removed.map((what) => ["Removed", what] as [string, string]))}\n`);
      return;
    }
    case "policy": {
      const [sub, arg] = rest;
      if (sub === "set") {
        if (!arg) throw new UserError(`usage: openclaw nemoclaw ${name} policy set FILE [--preset a,b]`);
        const presets = (opts.preset ?? "").split(",").map((s) => s.trim()).filter(Boolean);
        const path = await import("node:path");
        const r = await runBlueprint({ command: "sandbox.policy.apply", ...base, file: path.resolve(arg), presets }, (p) => p.SandboxPolicyApplyResultSchema);
        if (opts.json) printJson({ ok: true, ...r });
        else
          process.stdout.write(
            `${renderFields(`Policy of ${name} updated`, [
              ["From", r.file],
              ["Changed", r.changed.join(", ") || "nothing"],
              ["In force", r.live ? `now (${r.closed} connection${r.closed === 1 ? "" : "s"} it no longer allows closed)` : "when the sandbox starts"],
            ])}\n`,
          );
        return;
      }
      if (sub === "get" || sub === "diff" || sub === "add-preset") {
        await assertKnown(config, name);
        await sandboxPolicy(config, name, sub, arg, { full: Boolean(opts.full), json: Boolean(opts.json) });
        return;
      }
      throw new UserError(
        `usage: openclaw nemoclaw ${name} policy get [--full] | set FILE [--preset a,b] | diff FILE | add-preset NAME`,
        "set, diff and add-preset change or compare the network part live; static sections need a recreate",
      );
    }
    case "exec": {
      if (rest.length === 0) throw new UserError(`usage: openclaw nemoclaw ${name} exec [--tty] -- COMMAND [ARGS…]`);
      await assertKnown(config, name);
      const r = await runBlueprint(
        { command: "sandbox.exec", ...base, argv: [...rest], tty: Boolean(opts.tty) },
        (p) => p.SandboxExecResultSchema,
        { stdio: "inherit" },
      );
      process.exitCode = r.exitCode;
      return;
    }
    case "connect": {
      await assertKnown(config, name);
      const r = await runBlueprint({ command: "sandbox.connect", ...base }, (p) => p.SandboxExecResultSchema, { stdio: "inherit" });
      process.exitCode = r.exitCode;
      return;
    }
    case "gateway": {
      await assertKnown(config, name);
      const port = opts.port === undefined ? 18789 : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port ${opts.port}: not a TCP port`, "give e.g. 18789 (0: any free port)");
      const r = await runBlueprint({ command: "sandbox.gateway", ...base, port }, (p) => p.SandboxExecResultSchema, { stdio: "inherit", forwardSignals: true });
      process.exitCode = r.exitCode;
      return;
    }
    case "logs": {
      await assertKnown(config, name);
      if (opts.inference) {
        await inferenceLogs(config, name, { follow: Boolean(opts.follow), json: Boolean(opts.json), ...(opts.tail ? { limit: Number(opts.tail) } : {}) });
        return;
      }
      if (opts.egress) {
        await egressLogs(config, name, { follow: Boolean(opts.follow), json: Boolean(opts.json), ...(opts.tail ? { limit: Number(opts.tail) } : {}) });
        return;
      }
      const tail = opts.tail ? Number(opts.tail) : undefined;
      if (tail !== undefined && (!Number.isInteger(tail) || tail < 1)) throw new UserError(`--tail ${opts.tail}: not a line count`);
      await runBlueprint(
        { command: "sandbox.logs", ...base, follow: Boolean(opts.follow), ...(tail ? { tail } : {}) },
        (p) => p.SandboxLogsResultSchema,
        { stdio: "inherit" },
      );
      return;
    }
    case "inference": {
      const [sub] = rest;
      if (sub === "set") return inferenceSet(config, name, opts);
      if (sub === "get") return inferenceGet(config, name, opts);
      throw new UserError(`usage: openclaw nemoclaw ${name} inference set --provider P --model M [--base-url U] [--credential NAME] | get [--json]`, "kinds: openclaw nemoclaw inference providers");
    }
    default:
      throw new UserError(`unknown verb "${verb}" for sandbox ${name}`, "verbs: status, connect, exec, logs, gateway, stop, start, destroy, policy, inference");
  }
}

// ── daemon ───────────────────────────────────────────────────────────────────────────────────

export async function daemonStatus(config: ResolvedConfig, opts: Json): Promise<void> {
  const r = await runBlueprint({ command: "daemon.status", stateDir: config.stateDir }, (p) => p.DaemonStatusResultSchema);
  if (opts.json) {
    printJson(r);
    return;
  }
  const fields: Array<[string, string]> = r.running
    ? [
        ["Pid", String(r.pid)],
        ["Version", r.version ?? "?"],
        ["Since", r.startedAt ?? "?"],
        ["Egress", r.egress ?? "?"],
        ["Serving", r.sandboxes.join(", ") || "no sandboxes"],
      ]
    : [["State", "not running (sandbox egress is closed; `sandbox create` or `<name> start` starts it)"]];
  fields.push(["Control", r.controlSocket], ["Log", r.log]);
  process.stdout.write(`${renderFields(`nemoclaw daemon: ${r.running ? "running" : "stopped"}`, fields)}\n`);
}

export async function daemonStop(config: ResolvedConfig, opts: Json): Promise<void> {
  const r = await runBlueprint({ command: "daemon.stop", stateDir: config.stateDir }, (p) => p.DaemonStopResultSchema);
  if (opts.json) printJson({ ok: true, ...r });
  else process.stdout.write(`nemoclaw daemon ${r.wasRunning ? "stopped: sandbox egress is closed until it starts again" : "was not running"}\n`);
}
