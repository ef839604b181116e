// The sandboxes this host knows: one folder per sandbox under <stateDir>/sandboxes/, holding
// what it was created with (sandbox.json). Everything needed to recreate its container is here,
// so a sandbox survives its container (dockerd restart, host reboot, `docker rm`): only the
// volume holds /sandbox, and the state dir holds the rest.
import { readdir, rm, stat } from "node:fs/promises";
import { z } from "zod";
import { RuntimeError } from "../state/runtime-error.js";
import { sandboxDir, sandboxesDir, sandboxRecordFile } from "../state/paths.js";
import { ensureRunDir, removeRunDir } from "./run-dir.js";
import { ensureStateDir, StateFile } from "../state/state-file.js";
import { SANDBOX_NAME_RULE, SandboxNameSchema } from "../state/sandbox-name.js";

export { SANDBOX_NAME_RULE, SandboxNameSchema } from "../state/sandbox-name.js";

const absolute = z.string().startsWith("/");

export const SandboxRecordSchema = z
  .object({
    version: z.literal(1),
    name: SandboxNameSchema,
    createdAt: z.string(),
    image: z.string().min(1),
    baseImage: z.string().min(1),
    /** `--policy FILE` as given, or "base" for policies/openclaw-sandbox.yaml. */
    policySource: z.string().min(1),
    presets: z.array(z.string()),
    /** The static sections (filesystem_policy, landlock, process) the container was created with. */
    appliedStatic: z.record(z.string(), z.unknown()),
    limits: z
      .object({
        memoryBytes: z.number().int().positive(),
        nanoCpus: z.number().int().positive(),
        pids: z.number().int().positive(),
        tmpfsBytes: z.number().int().positive(),
        /** Records from before quotas have none: their /sandbox is a plain volume. */
        diskBytes: z.number().int().nonnegative().default(0),
      })
      .strict(),
    user: z.object({ uid: z.number().int().min(1), gid: z.number().int().min(1) }).strict(),
    landlock: z
      .object({
        readOnly: z.array(absolute),
        readWrite: z.array(absolute),
        compatibility: z.enum(["best_effort", "hard_requirement"]),
        connectTcp: z.array(z.number().int()),
        bindTcp: z.array(z.number().int()),
      })
      .strict(),
    /**
     * Read-only mounts besides the supervisor and the run dir: the staged OpenClaw volume
     * (`volume: true`); records from before staging hold a bind mount of a host folder.
     */
    mounts: z.array(
      z
        .object({ source: z.string().min(1), target: absolute, volume: z.boolean().optional() })
        .strict()
        .refine((m) => m.volume === true || m.source.startsWith("/"), "a bind mount's source must be an absolute path"),
    ),
    openclaw: z.object({ hostDir: absolute, version: z.string(), entry: absolute }).strict().nullable(),
    command: z.array(z.string()).min(1),
    /** A gateway sandbox (gateway-inside.ts): its workload is OpenClaw's gateway on this port. Older records: none. */
    gateway: z.object({ port: z.number().int().min(1).max(65535) }).strict().nullable().default(null),
    env: z.record(z.string(), z.string()),
    /** On an engine that is not on this host (docs/architecture.md, "Remote engines"): nothing bind-mounted. Older records: local. */
    remote: z.object({ dockerHost: z.string().optional() }).strict().nullable().default(null),
  })
  .strict();
export type SandboxRecord = z.infer<typeof SandboxRecordSchema>;

export function parseSandboxName(name: string): string {
  const parsed = SandboxNameSchema.safeParse(name);
  if (!parsed.success) throw new RuntimeError("bad-name", `invalid sandbox name "${name}"`, SANDBOX_NAME_RULE);
  return parsed.data;
}

export class SandboxRegistry {
  readonly stateDir: string;
  constructor(stateDir: string) {
    this.stateDir = stateDir;
  }

  #file(name: string): StateFile<SandboxRecord> {
    return new StateFile(sandboxRecordFile(this.stateDir, name), SandboxRecordSchema);
  }

  async exists(name: string): Promise<boolean> {
    return (await stat(sandboxRecordFile(this.stateDir, name)).catch(() => undefined)) !== undefined;
  }

  /** Names with a record, sorted. */
  async names(): Promise<string[]> {
    const entries = await readdir(sandboxesDir(this.stateDir)).catch(() => [] as string[]);
    const names: string[] = [];
    for (const entry of entries.sort()) {
      if (SandboxNameSchema.safeParse(entry).success && (await this.exists(entry))) names.push(entry);
    }
    return names;
  }

  /** The record, or an error listing the sandboxes that do exist. */
  async get(name: string): Promise<SandboxRecord> {
    parseSandboxName(name);
    if (!(await this.exists(name))) {
      const known = await this.names();
      throw new RuntimeError(
        "unknown-sandbox",
        `no sandbox named "${name}"`,
        known.length > 0
          ? `known sandboxes: ${known.join(", ")}`
          : "there are no sandboxes yet; create one with `openclaw nemoclaw sandbox create <name>`",
      );
    }
    const record = await this.#file(name).read(
      () => {
        throw new Error("unreachable");
      },
      `destroy it with \`openclaw nemoclaw ${name} destroy --yes\` and create it again`,
    );
    return record;
  }

  /** The sandbox's folder (0700) and its run dir (0755: the supervisor, root without DAC override, enters it). */
  async prepare(name: string): Promise<void> {
    await ensureStateDir(sandboxDir(this.stateDir, name));
    await ensureRunDir(this.stateDir, name);
  }

  async write(record: SandboxRecord): Promise<void> {
    await this.#file(record.name).write(record);
  }

  async remove(name: string): Promise<void> {
    await removeRunDir(this.stateDir, name);
    await rm(sandboxDir(this.stateDir, name), { recursive: true, force: true });
  }
}
