// Everything the gateway keeps per sandbox: the live policy (swapped whole on reload), the
// operator's deny-always list, the CA and leaf cache for terminated TLS, the audit log, and
// the connections currently open with the destinations they were allowed to reach.

import { readFile } from "node:fs/promises";
import type net from "node:net";
import path from "node:path";
import { z } from "zod";
import { serializePolicy } from "../policy/serialize.js";
import { changedSections } from "../policy/diff.js";
import type { Endpoint, NetworkPolicy, Policy } from "../policy/schema.js";
import type { SectionChanges } from "../policy/diff.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { AuditLog } from "./audit.js";
import type { AuditLogOptions } from "./audit.js";
import type { Caller } from "./caller.js";
import { PolicyEngine } from "./policy-engine.js";
import { loadOrCreateSandboxCa } from "../ca/sandbox-ca.js";
import type { SandboxCa } from "../ca/sandbox-ca.js";
import { LeafCache } from "./leaf-cache.js";
import type { LeafCacheOptions } from "./leaf-cache.js";
import { BinaryPins } from "./binary-pins.js";
import { secretCheck } from "./caller.js";
import type { SecretCheck } from "./caller.js";
import { readCallerSecretSync } from "../state/caller-secret.js";
import { escapeGlob } from "./globs.js";

export interface SandboxOptions {
  /** The sandbox's validated policy (base + presets), as the loader returned it. */
  policy: Policy;
  /** Where the live policy is persisted (allow-always, policy set). Omitted: changes live in memory only. */
  policyFile?: string;
  /** Host-side state directory of this sandbox: `ca/` (CA key 0600 and cert) and `egress-denied.json`. */
  stateDir: string;
  /** Audit log file. Default `<stateDir>/logs/egress.jsonl`. */
  auditFile?: string;
  /** Destinations no policy names: `ask` holds them for approval, `deny` refuses at once (observe mode). Default `ask`. */
  unknown?: "ask" | "deny";
  /** The sandbox's caller secret file (state/caller-secret.ts): every preamble must carry it. */
  callerSecretFile: string;
}

/** Thrown by setPolicy when a static section changed: nothing was applied. */
export class RecreateNeededError extends Error {
  readonly changes: SectionChanges;
  constructor(changes: SectionChanges) {
    super(`${changes.static.join(", ")} changed; these sections are fixed when the sandbox is created — recreate needed (openclaw nemoclaw onboard --recreate)`);
    this.name = "RecreateNeededError";
    this.changes = changes;
  }
}

export const DeniedDestinationSchema = z.object({ host: z.string(), port: z.number().int(), binary: z.string().nullable() });
export type DeniedDestination = z.infer<typeof DeniedDestinationSchema>;
const DeniedFileSchema = z.object({ version: z.literal(1), denied: z.array(DeniedDestinationSchema) });

/** A destination a connection was allowed to reach, kept so a reload can re-check it. */
export interface Use {
  host: string;
  port: number;
  address: string;
  /** How the connection carries it: plain HTTP requests, a pure tunnel, or terminated TLS. */
  mode: "http" | "tunnel" | "terminated";
  /** Allowed by an allow-once approval, not by the policy: a reload leaves it open. */
  pinned?: boolean;
}

export interface Tracked {
  sandbox: string;
  caller: Caller;
  socket: net.Socket;
  uses: Map<string, Use>;
  /** Sockets to close with it (upstream side of tunnels). */
  linked: Set<net.Socket>;
}

export class SandboxState {
  readonly name: string;
  readonly options: SandboxOptions;
  readonly audit: AuditLog;
  readonly connections = new Set<Tracked>();
  engine: PolicyEngine;
  denied: DeniedDestination[] = [];
  ca: SandboxCa | undefined;
  leaves: LeafCache | undefined;
  /** Executable sha256 per path, pinned on first use. */
  pins!: BinaryPins;
  #secret: SecretCheck | undefined;
  private persistChain: Promise<void> = Promise.resolve();

  private constructor(name: string, options: SandboxOptions, auditOptions: AuditLogOptions) {
    this.name = name;
    this.options = options;
    this.engine = new PolicyEngine(options.policy);
    this.audit = new AuditLog(options.auditFile ?? path.join(options.stateDir, "logs", "egress.jsonl"), auditOptions);
  }

  static async open(name: string, options: SandboxOptions, auditOptions: AuditLogOptions, leafOptions: LeafCacheOptions): Promise<SandboxState> {
    const state = new SandboxState(name, options, auditOptions);
    state.ca = await loadOrCreateSandboxCa(path.join(options.stateDir, "ca"), name);
    state.leaves = new LeafCache(state.ca, leafOptions);
    state.pins = await BinaryPins.open(options.stateDir);
    const text = await readFile(state.deniedFile, "utf8").catch(() => undefined);
    if (text !== undefined) state.denied = DeniedFileSchema.parse(JSON.parse(text)).denied;
    return state;
  }

  get policy(): Policy {
    return this.engine.policy;
  }

  get deniedFile(): string {
    return path.join(this.options.stateDir, "egress-denied.json");
  }

  /** Swaps in `policy` (dynamic sections only). Throws RecreateNeededError without applying anything. */
  swapPolicy(policy: Policy): SectionChanges {
    const changes = changedSections(this.engine.policy, policy);
    if (changes.recreateNeeded) throw new RecreateNeededError(changes);
    this.engine = new PolicyEngine(policy);
    return changes;
  }

  /**
   * Checks a preamble's caller secret. The file is read again on a mismatch, so a sandbox
   * re-created under the same name (a new secret) is served without restarting the daemon; no
   * file means no secret can match (fail closed).
   */
  readonly checkSecret: SecretCheck = (presented) => {
    if (this.#secret?.(presented) === true) return true;
    const secret = readCallerSecretSync(this.options.callerSecretFile);
    if (secret === undefined) return false;
    this.#secret = secretCheck(secret);
    return this.#secret(presented);
  };

  isDenied(host: string, port: number, binary: string | null): boolean {
    return this.denied.some((d) => d.host === host && d.port === port && (d.binary === null || d.binary === binary));
  }

  /**
   * The policy with an endpoint+binary rule added for an approved destination. `binary` is a
   * path from inside the sandbox, written as a glob that matches exactly it: a file named
   * `/sandbox/*` must not become a wildcard.
   */
  withApprovedRule(host: string, port: number, exe: string, allowedIps: string[] | undefined): Policy {
    const binary = escapeGlob(exe);
    const policies = { ...(this.policy.network_policies ?? {}) };
    const key = `approved_${host.replace(/[^A-Za-z0-9_.-]/g, "_")}_${port}`;
    const existing = policies[key];
    const endpoint: Endpoint = { host, port, ...(allowedIps === undefined ? {} : { allowed_ips: allowedIps }) };
    const next: NetworkPolicy =
      existing === undefined
        ? { name: key, endpoints: [endpoint], binaries: [{ path: binary }] }
        : {
            ...existing,
            endpoints: (existing.endpoints ?? [endpoint]).map((ep) =>
              allowedIps === undefined ? ep : { ...ep, allowed_ips: [...new Set([...(ep.allowed_ips ?? []), ...allowedIps])] },
            ),
            binaries: (existing.binaries ?? []).some((b) => b.path === binary) ? existing.binaries : [...(existing.binaries ?? []), { path: binary }],
          };
    policies[key] = next;
    return { ...this.policy, network_policies: policies };
  }

  /** Writes the live policy to `policyFile` (atomically; writes are serialised). */
  persistPolicy(): Promise<void> {
    const file = this.options.policyFile;
    if (file === undefined) return Promise.resolve();
    const text = serializePolicy(this.policy, { header: " nemoclaw live policy for this sandbox; edited by `policy set`, `policy add-preset` and approvals" });
    this.persistChain = this.persistChain.then(() => writeFileAtomic(file, text, { mode: 0o600 }));
    return this.persistChain;
  }

  async addDenied(entry: DeniedDestination): Promise<void> {
    if (!this.isDenied(entry.host, entry.port, entry.binary)) this.denied = [...this.denied, entry];
    const text = `${JSON.stringify({ version: 1, denied: this.denied }, null, 2)}\n`;
    this.persistChain = this.persistChain.then(() => writeFileAtomic(this.deniedFile, text, { mode: 0o600 }));
    await this.persistChain;
  }
}
