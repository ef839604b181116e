import { z } from "zod";
import { SandboxNameSchema } from "../state/sandbox-name.js";
/** `skill test`'s report (skill-report.ts), for the plugin to validate what it renders. */
export { SkillReportSchema, type SkillReport } from "./skill-report-schema.js";

/** The egress gateway's control-route schemas, for the plugin to validate what the daemon answers. */
export * as EgressRoutes from "../gateway/egress-route-schemas.js";
/** The credential and inference routes' schemas (inference-routes.ts), likewise. */
export * as InferenceRoutes from "./inference-routes.js";

/** The egress control routes `egress.call` may name (egress-call.ts sends them to the daemon). */
export const EGRESS_ROUTES = [
  "approvals/list",
  "approvals/decide",
  "approvals/wait",
  "policy/get",
  "policy/set",
  "policy/diff",
  "policy/add-preset",
  "logs",
] as const;

const EgressCallRequestFields = {
  stateDir: z.string().min(1),
  route: z.enum(EGRESS_ROUTES),
  body: z.record(z.string(), z.unknown()),
};

/** Routes `inference.call` may name: every one but credentials/add, whose secret never travels in argv. */
export const INFERENCE_CALL_ROUTES = ["credentials/list", "credentials/remove", "inference/providers", "inference/set", "inference/get", "inference/logs"] as const;

/**
 * The contract between the plugin and the runtime subprocess.
 * Request: one JSON argument on the command line (visible to every local user in
 * /proc/<pid>/cmdline, so never a secret: `credentials.add` reads its secret from stdin). Reply: JSON lines on stdout, any number of
 * `progress` messages, then exactly one `result` or `error`. stderr is free-form diagnostics.
 *
 * Streaming verbs (sandbox.exec, sandbox.connect, sandbox.logs) run with the plugin's stdin,
 * stdout and stderr inherited, so a terminal reaches the sandbox untouched; for them the plugin
 * sets NEMOCLAW_PROTOCOL_FD=3 and reads the same JSON lines from file descriptor 3.
 */
export const PROTOCOL_FD_ENV = "NEMOCLAW_PROTOCOL_FD";
/** Commands that run with inherited stdio and answer on fd 3. */
export const STREAMING_COMMANDS = ["sandbox.exec", "sandbox.connect", "sandbox.logs", "sandbox.gateway"] as const;

const SandboxName = SandboxNameSchema;
/** Every sandbox verb: where state lives and which Docker Engine to use. */
const target = {
  stateDir: z.string().min(1),
  dockerHost: z.string().optional(),
};
const sandbox = { ...target, name: SandboxName };

export const RequestSchema = z.discriminatedUnion("command", [
  z.object({ command: z.literal("egress.call"), ...EgressCallRequestFields }).strict(),
  z
    .object({ command: z.literal("inference.call"), stateDir: z.string().min(1), dockerHost: z.string().optional(), route: z.enum(INFERENCE_CALL_ROUTES), body: z.record(z.string(), z.unknown()) })
    .strict(),
  z
    .object({
      command: z.literal("credentials.add"),
      stateDir: z.string().min(1),
      name: z.string(),
      // Checked by the credentials/add route, whose errors name the field (kind, bindings.0.host, …).
      kind: z.string().optional(),
      bindings: z.array(z.record(z.string(), z.unknown())).optional(),
      placeholderPrefix: z.string().optional(),
      // The secret itself: the runtime's stdin, up to EOF (one trailing newline dropped).
    })
    .strict(),
  z
    .object({
      command: z.literal("doctor"),
      stateDir: z.string().min(1),
      dockerHost: z.string().optional(),
      ports: z.array(z.number().int().min(1).max(65535)),
      /** The sandbox image on this base is the one doctor probes Landlock in. */
      baseImage: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      command: z.literal("policy.check"),
      file: z.string().min(1),
      presets: z.array(z.string().min(1)),
    })
    .strict(),
  z.object({ command: z.literal("policy.presets") }).strict(),
  z
    .object({
      command: z.literal("sandbox.create"),
      ...sandbox,
      baseImage: z.string().min(1).optional(),
      policyFile: z.string().min(1).optional(),
      presets: z.array(z.string().min(1)),
      memoryBytes: z.number().int().positive().optional(),
      nanoCpus: z.number().int().positive().optional(),
      /** Size limit of /sandbox; 0 for none. Default: the driver's (10 GiB). */
      diskBytes: z.number().int().nonnegative().optional(),
      /** Root of the `openclaw` package the CLI runs from; mounted read-only inside. */
      openclawDir: z.string().min(1).optional(),
      /** The workload is OpenClaw's gateway (sandbox/gateway-inside.ts). */
      gateway: z.boolean().optional(),
      /**
       * The operator's openclaw.json: its local `gateway.auth.token`, when usable, becomes this
       * gateway's token (read here, never sent in a request), so the host's CLI works unchanged.
       */
      gatewayTokenFrom: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ command: z.literal("sandbox.list"), ...target }).strict(),
  z.object({ command: z.literal("sandbox.status"), ...sandbox }).strict(),
  z.object({ command: z.literal("sandbox.start"), ...sandbox }).strict(),
  z.object({ command: z.literal("sandbox.stop"), ...sandbox }).strict(),
  z.object({ command: z.literal("sandbox.destroy"), ...sandbox, yes: z.literal(true) }).strict(),
  z
    .object({ command: z.literal("sandbox.policy.apply"), ...sandbox, file: z.string().min(1), presets: z.array(z.string().min(1)) })
    .strict(),
  z.object({ command: z.literal("sandbox.exec"), ...sandbox, argv: z.array(z.string()).min(1), tty: z.boolean() }).strict(),
  z.object({ command: z.literal("sandbox.connect"), ...sandbox }).strict(),
  /** Foreground: a gateway sandbox started, its port relayed to the host's 127.0.0.1:<port>, its output streamed. */
  z.object({ command: z.literal("sandbox.gateway"), ...sandbox, port: z.number().int().min(0).max(65535) }).strict(),
  /** Background: the gateway sandbox started and its port relayed by the daemon (relay-routes.ts) until gateway.stop. */
  z
    .object({
      command: z.literal("gateway.start"),
      ...sandbox,
      /** Host loopback port (0: any free one). Default: the port its relay had last time, else 18789. */
      port: z.number().int().min(0).max(65535).optional(),
      /** How long to wait for the relayed gateway's /readyz (0: do not wait). */
      readyTimeoutMs: z.number().int().nonnegative(),
    })
    .strict(),
  z.object({ command: z.literal("gateway.stop"), ...sandbox }).strict(),
  /**
   * Bare `start`: every sandbox the operator did not stop on purpose, and `launch` (the launch or
   * default sandbox) in any case; gateway sandboxes with their relay on its old port (restore.ts).
   */
  z
    .object({ command: z.literal("sandboxes.restore"), ...target, launch: SandboxNameSchema.optional(), readyTimeoutMs: z.number().int().nonnegative() })
    .strict(),
  /** The operator's OpenClaw state (config file, workspace folders) carried into a running gateway sandbox (carry-over.ts). */
  z
    .object({
      command: z.literal("sandbox.carryover"),
      ...sandbox,
      /** The operator's openclaw.json (read only; secrets in it never travel in this request). */
      configFile: z.string().min(1),
      /** `~` in the config's paths, and the default workspace's parent. */
      home: z.string().min(1),
      openclawStateDir: z.string().min(1),
    })
    .strict(),
  z
    .object({ command: z.literal("sandbox.logs"), ...sandbox, follow: z.boolean(), tail: z.number().int().positive().optional() })
    .strict(),
  /** `openclaw nemoclaw status`: every sandbox, the daemon, disk (overview.ts). */
  z.object({ command: z.literal("overview"), ...target }).strict(),
  /** Is a gateway sandbox serving: its gateway's /readyz over the relay socket, then inference.local/v1/models from inside. */
  z.object({ command: z.literal("gateway.health"), ...sandbox, timeoutMs: z.number().int().positive().max(3_600_000) }).strict(),
  z
    .object({
      command: z.literal("skill.test"),
      ...target,
      baseImage: z.string().min(1).optional(),
      openclawDir: z.string().min(1),
      /** A folder with SKILL.md, an npm spec, a git URL or clawhub:<slug>. */
      source: z.string().min(1),
      /** ClawHub's base URL from the CLI's environment (OPENCLAW_CLAWHUB_URL, CLAWHUB_URL); the daemon's may be older. */
      clawhubUrl: z.string().min(1).optional(),
      /** Empty: derived from SKILL.md. */
      prompts: z.array(z.string().min(1)),
      /** Each prompt's turn limit, and the least time the sandbox is watched. */
      timeoutS: z.number().int().min(1).max(24 * 3600),
      route: z.object({ provider: z.string().min(1), model: z.string().min(1), baseUrl: z.string().min(1).optional(), credential: z.string().min(1).optional() }).strict(),
      keep: z.boolean(),
      /** Test against this policy instead of the base one (attempts are still only observed). */
      policyFile: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ command: z.literal("daemon.status"), stateDir: z.string().min(1) }).strict(),
  z.object({ command: z.literal("daemon.stop"), stateDir: z.string().min(1) }).strict(),
  /** `eject --export DIR`: /sandbox copied out into DIR, which must be new or empty (sandbox/export.ts). */
  z.object({ command: z.literal("sandbox.export"), ...sandbox, dir: z.string().min(1) }).strict(),
  /** `uninstall` and `gc` (cleanup.ts): the plan, and with apply its removal. */
  z
    .object({
      command: z.literal("cleanup"),
      ...target,
      mode: z.enum(["uninstall", "gc"]),
      keepData: z.boolean(),
      apply: z.boolean(),
      baseImage: z.string().min(1).optional(),
      openclawDir: z.string().min(1).optional(),
    })
    .strict(),
]);
export type Request = z.infer<typeof RequestSchema>;

export const ProgressSchema = z
  .object({
    type: z.literal("progress"),
    step: z.string(),
    message: z.string(),
    percent: z.number().min(0).max(100).optional(),
  })
  .strict();

export const ResultSchema = z.object({ type: z.literal("result"), data: z.unknown() }).strict();

export const ErrorSchema = z
  .object({
    type: z.literal("error"),
    code: z.string(),
    message: z.string(),
    hint: z.string().optional(),
    details: z.array(z.string()).optional(),
  })
  .strict();

export const MessageSchema = z.discriminatedUnion("type", [ProgressSchema, ResultSchema, ErrorSchema]);
export type Message = z.infer<typeof MessageSchema>;
export type ProgressMessage = z.infer<typeof ProgressSchema>;
export type ErrorMessage = z.infer<typeof ErrorSchema>;

/** Results, one schema per command, so the plugin validates what it renders. */
export const CheckSchema = z
  .object({
    name: z.string(),
    status: z.enum(["ok", "warn", "fail"]),
    detail: z.string(),
    fix: z.string().optional(),
  })
  .strict();
export type Check = z.infer<typeof CheckSchema>;

export const DoctorResultSchema = z.object({ checks: z.array(CheckSchema) }).strict();
export type DoctorResult = z.infer<typeof DoctorResultSchema>;


export const PolicyCheckResultSchema = z
  .object({
    file: z.string(),
    presets: z.array(z.string()),
    warnings: z.array(z.string()),
    networkPolicies: z.array(
      z.object({ name: z.string(), endpoints: z.array(z.string()), binaries: z.array(z.string()) }).strict(),
    ),
  })
  .strict();
export type PolicyCheckResult = z.infer<typeof PolicyCheckResultSchema>;

export const PresetsResultSchema = z
  .object({
    presets: z.array(z.object({ name: z.string(), description: z.string(), allows: z.array(z.string()), permits: z.array(z.string()) }).strict()),
  })
  .strict();
export type PresetsResult = z.infer<typeof PresetsResultSchema>;

// ── sandboxes ────────────────────────────────────────────────────────────────────────────────

const SandboxState = z.enum(["running", "stopped", "missing"]);

export const SandboxSummarySchema = z
  .object({
    name: z.string(),
    state: SandboxState,
    image: z.string(),
    createdAt: z.string(),
    presets: z.array(z.string()),
    openclaw: z.string().nullable(),
  })
  .strict();
export type SandboxSummary = z.infer<typeof SandboxSummarySchema>;

const LimitsSchema = z.object({ memoryBytes: z.number(), nanoCpus: z.number(), pids: z.number(), tmpfsBytes: z.number(), diskBytes: z.number() }).strict();

export const SandboxCreateResultSchema = z
  .object({
    name: z.string(),
    image: z.string(),
    volume: z.string(),
    stateDir: z.string(),
    policyFile: z.string(),
    presets: z.array(z.string()),
    openclaw: z.string().nullable(),
    limits: LimitsSchema,
    /** Whose token the gateway checks: the operator's own (host-config) or one made for it. */
    gatewayToken: z.enum(["host-config", "own"]).optional(),
  })
  .strict();
export type SandboxCreateResult = z.infer<typeof SandboxCreateResultSchema>;

export const SandboxListResultSchema = z.object({ sandboxes: z.array(SandboxSummarySchema) }).strict();

const LayerSchema = z
  .object({
    pid: z.number(),
    argv: z.array(z.string()),
    uid: z.number(),
    gid: z.number(),
    seccomp: z.number(),
    seccompFilters: z.number(),
    noNewPrivs: z.number(),
    capEff: z.string(),
    capPrm: z.string(),
    capInh: z.string(),
    capBnd: z.string(),
    capAmb: z.string(),
  })
  .strict();

export const SandboxStatusResultSchema = z
  .object({
    name: z.string(),
    state: SandboxState,
    container: z.string().nullable(),
    startedAt: z.string().nullable(),
    image: z.string(),
    openclaw: z.string().nullable(),
    policy: z.object({ source: z.string(), presets: z.array(z.string()), file: z.string() }).strict(),
    egress: z.string(),
    proxyGuard: z.string(),
    limits: LimitsSchema,
    inside: z
      .object({
        supervisor: LayerSchema.nullable(),
        forwarder: LayerSchema.nullable(),
        workload: LayerSchema.nullable(),
        self: LayerSchema,
        landlock: z.object({ abi: z.number(), probe: z.string(), write: z.string() }).strict(),
        mounts: z.array(z.object({ target: z.string(), type: z.string(), options: z.string() }).strict()),
        proxySocket: z
          .object({ present: z.boolean(), mode: z.string().optional(), uid: z.number().optional(), error: z.string().optional() })
          .strict(),
        environ: z.object({ supervisor: z.string(), forwarder: z.string() }).strict(),
      })
      .strict()
      .nullable(),
  })
  .strict();
export type SandboxStatusResult = z.infer<typeof SandboxStatusResultSchema>;

export const SandboxStartResultSchema = z.object({ name: z.string(), recreated: z.boolean(), alreadyRunning: z.boolean() }).strict();
export const SandboxStopResultSchema = z.object({ name: z.string(), wasRunning: z.boolean() }).strict();
export const SandboxDestroyResultSchema = z.object({ name: z.string(), removed: z.array(z.string()) }).strict();
export const SandboxPolicyApplyResultSchema = z
  .object({ name: z.string(), file: z.string(), changed: z.array(z.string()), live: z.boolean(), closed: z.number().int() })
  .strict();
/** exec and connect: the command's own exit code, for the plugin to exit with. */
export const GatewayHealthResultSchema = z
  .object({
    name: z.string(),
    gateway: z.object({ ready: z.boolean(), status: z.number().int().nullable(), waitedMs: z.number(), detail: z.string() }).strict(),
    inference: z.object({ ok: z.boolean(), status: z.number().int().nullable(), models: z.array(z.string()), detail: z.string() }).strict(),
  })
  .strict();
export type GatewayHealthResult = z.infer<typeof GatewayHealthResultSchema>;

export const SandboxExecResultSchema = z.object({ exitCode: z.number().int() }).strict();
export const SandboxLogsResultSchema = z.object({ name: z.string() }).strict();

export const GatewayStartResultSchema = z
  .object({ name: z.string(), port: z.number().int(), url: z.string(), ready: z.boolean(), alreadyRunning: z.boolean(), recreated: z.boolean() })
  .strict();
export type GatewayStartResult = z.infer<typeof GatewayStartResultSchema>;
export const GatewayStopResultSchema = z.object({ name: z.string(), wasRunning: z.boolean(), relayClosed: z.boolean() }).strict();
export type GatewayStopResult = z.infer<typeof GatewayStopResultSchema>;
export const RestoreResultSchema = z
  .object({
    sandboxes: z.array(
      z
        .object({
          name: z.string(),
          /** started: its container was stopped (a dockerd restart); recreated: it was gone. */
          outcome: z.enum(["started", "recreated", "already-running", "left-stopped", "failed"]),
          gateway: z.object({ port: z.number().int(), url: z.string(), ready: z.boolean() }).strict().nullable(),
          /** Why it failed, and what to do. */
          error: z.object({ message: z.string(), hint: z.string().optional() }).strict().nullable(),
        })
        .strict(),
    ),
  })
  .strict();
export type RestoreResult = z.infer<typeof RestoreResultSchema>;

export const DaemonStatusResultSchema = z
  .object({
    running: z.boolean(),
    pid: z.number().nullable(),
    version: z.string().nullable(),
    egress: z.string().nullable(),
    startedAt: z.string().nullable(),
    sandboxes: z.array(z.string()),
    controlSocket: z.string(),
    log: z.string(),
  })
  .strict();
const LayerCheckSchema = z.object({ ok: z.boolean(), detail: z.string() }).strict();
export type LayerCheck = z.infer<typeof LayerCheckSchema>;
const OverviewSandboxSchema = z
  .object({
    name: z.string(),
    state: SandboxState,
    /** Read from inside; null when the sandbox is not running; a string says why the probe failed. */
    layers: z.union([z.object({ network: LayerCheckSchema, filesystem: LayerCheckSchema, process: LayerCheckSchema }).strict(), z.string()]).nullable(),
    policy: z.object({ file: z.string(), revision: z.string().nullable(), changedAt: z.string().nullable(), presets: z.array(z.string()) }).strict(),
    inference: z.object({ provider: z.string(), model: z.string() }).strict().nullable(),
    pendingApprovals: z.number().int(),
    /** A gateway sandbox: "ready", "stopped", "not listening", …; null for a plain sandbox. */
    gateway: z.string().nullable(),
  })
  .strict();
export type OverviewSandbox = z.infer<typeof OverviewSandboxSchema>;
const DiskUseSchema = z.object({ count: z.number().int(), bytes: z.number() }).strict();
export const OverviewResultSchema = z
  .object({
    daemon: z.object({ running: z.boolean(), pid: z.number().nullable(), version: z.string().nullable(), startedAt: z.string().nullable() }).strict(),
    sandboxes: z.array(OverviewSandboxSchema),
    disk: z.object({ images: DiskUseSchema, volumes: DiskUseSchema }).strict().nullable(),
  })
  .strict();
export type OverviewResult = z.infer<typeof OverviewResultSchema>;

export const DaemonStopResultSchema = z.object({ wasRunning: z.boolean() }).strict();

export const SandboxExportResultSchema = z
  .object({
    name: z.string(),
    dir: z.string(),
    files: z.number().int(),
    directories: z.number().int(),
    bytes: z.number(),
    skipped: z.array(z.object({ path: z.string(), why: z.string() }).strict()),
  })
  .strict();
export type SandboxExportResult = z.infer<typeof SandboxExportResultSchema>;

const CleanupItemSchema = z
  .object({
    kind: z.enum(["container", "volume", "daemon", "image", "build-stage", "staged-volume", "run-dir", "staged-runtime", "state", "credentials"]),
    name: z.string(),
    detail: z.string(),
  })
  .strict();
export type CleanupItem = z.infer<typeof CleanupItemSchema>;
export const CleanupResultSchema = z
  .object({
    mode: z.enum(["uninstall", "gc"]),
    applied: z.boolean(),
    remove: z.array(CleanupItemSchema),
    keep: z.array(CleanupItemSchema),
    removed: z.array(CleanupItemSchema),
    failed: z.array(CleanupItemSchema.extend({ error: z.string() })),
  })
  .strict();
export type CleanupResult = z.infer<typeof CleanupResultSchema>;

const SkippedSchema = z.object({ path: z.string(), why: z.string() }).strict();
export const CarryOverResultSchema = z
  .object({
    name: z.string(),
    configFile: z.string(),
    configFound: z.boolean(),
    config: z.enum(["updated", "unchanged"]),
    agents: z.array(z.string()),
    channels: z.array(z.object({ name: z.string(), enabled: z.boolean(), placeholders: z.array(z.string()) }).strict()),
    skillSettings: z.array(z.string()),
    providers: z.array(z.string()),
    models: z.array(z.string()),
    dropped: z.array(SkippedSchema),
    warnings: z.array(z.string()),
    credentials: z.array(z.object({ name: z.string(), where: z.string(), status: z.enum(["added", "updated", "unchanged"]) }).strict()),
    workspaces: z.array(
      z
        .object({
          from: z.string(),
          to: z.string(),
          agent: z.string().nullable(),
          found: z.boolean(),
          files: z.number().int(),
          written: z.number().int(),
          unchanged: z.number().int(),
          skills: z.array(z.string()),
          skipped: z.array(SkippedSchema),
        })
        .strict(),
    ),
  })
  .strict();
export type CarryOverResult = z.infer<typeof CarryOverResultSchema>;
