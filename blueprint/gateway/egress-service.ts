// The daemon's entry point into the egress gateway: `createEgressHandler(context)` builds one
// EgressGateway for the daemon, registers each sandbox on its first connection (policy from the
// sandbox's policy.yaml, state under its directory), and mounts the gateway's control routes.
// The daemon loads this module by name (blueprint/runtime/daemon.ts, loadEgressFactory).
//
// Optional runtime settings live in `<stateDir>/egress.json` (see EgressSettingsSchema); a file
// that is present but invalid stops the daemon rather than being ignored.

import { readFile } from "node:fs/promises";
import type http from "node:http";
import type net from "node:net";
import path from "node:path";
import { z } from "zod";
import { loadPolicyFile, PolicyError } from "../policy/load.js";
import type { EgressHandler } from "./egress-handler.js";
import { stagePresets } from "../state/runtime-files.js";
import { sandboxCallerSecretFile } from "../state/paths.js";
import type { ApprovalEvent } from "./approvals.js";
import { ApprovalHistory, approvalHistoryFile } from "./approval-history.js";
import {
  ApprovalsDecideRequest, ApprovalsListRequest, callRoute, controlRoutes, EgressLogsRequest, PolicyAddPresetRequest,
  PolicyDiffRequest, PolicyGetRequest, PolicySetRequest,
} from "./egress-routes.js";
import type { ControlRouteName } from "./egress-routes.js";
import { createEgressGateway } from "./egress-gateway.js";
import type { EgressGateway, EgressGatewayOptions } from "./egress-gateway.js";

/** What the gateway needs from the daemon (structurally the daemon's EgressContext). */
export interface GatewayContext {
  stateDir: string;
  router: {
    addRoute<S extends z.ZodType>(method: string, path: string, handler: (body: z.infer<S>, request: http.IncomingMessage) => unknown, schema?: S): void;
  };
  /** The sandbox's policy file (base + presets, then whatever `policy set` and approvals changed). */
  policyFile(sandbox: string): string;
  internalHandlers?: EgressGatewayOptions["internalHandlers"];
  credentials?: EgressGatewayOptions["credentials"];
  log(message: string): void;
}

export const EgressSettingsSchema = z.strictObject({
  /** name → address(es) resolved before DNS, like curl --resolve. */
  hostMap: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  /** Names the runtime serves itself, e.g. { "inference.local": { address: "127.0.0.1", port: 8439 } }. */
  internalHosts: z.record(z.string(), z.strictObject({ address: z.string(), port: z.number().int().min(1).max(65535) })).optional(),
  approvalTimeoutMs: z.number().int().positive().optional(),
  /** PEM file(s) upstream TLS must chain to instead of Node's bundled roots. */
  upstreamCaFiles: z.array(z.string()).optional(),
  /** `deny` refuses unknown destinations instead of holding them (observe mode, skill tests). */
  unknown: z.enum(["ask", "deny"]).optional(),
});
export type EgressSettings = z.infer<typeof EgressSettingsSchema>;

async function readSettings(stateDir: string): Promise<EgressSettings> {
  const file = path.join(stateDir, "egress.json");
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (text === undefined) return {};
  const parsed = EgressSettingsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not valid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Where a sandbox's egress state lives: beside its policy file. */
export function sandboxEgressDir(policyFile: string): string {
  return path.join(path.dirname(policyFile), "egress");
}

export interface EgressHandlerWithGateway extends EgressHandler {
  gateway: EgressGateway;
  /** Registers a sandbox now (otherwise done on its first connection). */
  ensureSandbox(name: string): Promise<void>;
}

export async function createEgressHandler(context: GatewayContext): Promise<EgressHandlerWithGateway> {
  const settings = await readSettings(context.stateDir);
  const upstreamCa = settings.upstreamCaFiles === undefined ? undefined : await Promise.all(settings.upstreamCaFiles.map((f) => readFile(f, "utf8")));
  const gateway = createEgressGateway({
    ...(settings.hostMap === undefined ? {} : { hostMap: settings.hostMap }),
    ...(settings.internalHosts === undefined ? {} : { internalHosts: settings.internalHosts }),
    ...(settings.approvalTimeoutMs === undefined ? {} : { approvalTimeoutMs: settings.approvalTimeoutMs }),
    ...(upstreamCa === undefined ? {} : { upstreamCa }),
    ...(context.internalHandlers === undefined ? {} : { internalHandlers: context.internalHandlers }),
    ...(context.credentials === undefined ? {} : { credentials: context.credentials }),
  });
  const registering = new Map<string, Promise<void>>();

  const ensureSandbox = (name: string): Promise<void> => {
    let pending = registering.get(name);
    if (pending === undefined) {
      pending = (async () => {
        const policyFile = context.policyFile(name);
        const { policy } = await loadPolicyFile(policyFile);
        await gateway.addSandbox(name, {
          policy,
          policyFile,
          stateDir: sandboxEgressDir(policyFile),
          callerSecretFile: sandboxCallerSecretFile(context.stateDir, name),
          ...(settings.unknown === undefined ? {} : { unknown: settings.unknown }),
        });
        context.log(`egress: ${name} registered (policy ${policyFile})`);
      })();
      // A failed registration is retried on the next connection (e.g. after the policy is fixed).
      pending.catch(() => registering.delete(name));
      registering.set(name, pending);
    }
    return pending;
  };

  // Staged now, while the plugin folder this daemon was started from still exists.
  // Decisions outlive the daemon (the queue does not): listed again after a restart or reboot.
  const history = new ApprovalHistory(approvalHistoryFile(context.stateDir));
  history.onError = (e) => context.log(`approvals history ${history.file}: ${e.message}`);
  const unfollow = history.follow(gateway.approvals);
  const routes = controlRoutes(gateway, { presetsDir: await stagePresets(context.stateDir), history });
  const mount = (urlPath: string, name: ControlRouteName, schema: z.ZodType, sandboxOf?: (body: Record<string, unknown>) => string | undefined): void => {
    context.router.addRoute("POST", urlPath, async (body: unknown) => {
      const sandbox = sandboxOf?.(body as Record<string, unknown>);
      if (sandbox !== undefined) {
        try {
          await ensureSandbox(sandbox);
        } catch (e) {
          return { ok: false, error: "not-found", message: `sandbox ${sandbox}: ${e instanceof PolicyError ? e.format() : (e as Error).message}` };
        }
      }
      return callRoute(routes, name, body);
    }, schema);
  };
  const bySandbox = (body: Record<string, unknown>): string | undefined => (typeof body.sandbox === "string" ? body.sandbox : undefined);
  mount("/egress/approvals/list", "approvals.list", ApprovalsListRequest);
  mount("/egress/approvals/decide", "approvals.decide", ApprovalsDecideRequest);
  mount("/egress/policy/get", "policy.get", PolicyGetRequest, bySandbox);
  mount("/egress/policy/set", "policy.set", PolicySetRequest, bySandbox);
  mount("/egress/policy/diff", "policy.diff", PolicyDiffRequest, bySandbox);
  mount("/egress/policy/add-preset", "policy.addPreset", PolicyAddPresetRequest, bySandbox);
  mount("/egress/logs", "logs.egress", EgressLogsRequest, bySandbox);

  // `approvals --watch`: a long poll that answers with the next approval events (or none after waitMs).
  const WatchRequest = z.strictObject({ sandbox: z.string().optional(), waitMs: z.number().int().positive().max(120_000).default(30_000) });
  context.router.addRoute("POST", "/egress/approvals/wait", async (body: z.infer<typeof WatchRequest>) => {
    const events = await new Promise<ApprovalEvent[]>((resolve) => {
      const collected: ApprovalEvent[] = [];
      const stop = gateway.approvals.subscribe((event) => {
        if (body.sandbox !== undefined && event.approval.sandbox !== body.sandbox) return;
        collected.push(event);
        setImmediate(() => finish());
      });
      const timer = setTimeout(() => finish(), body.waitMs);
      const finish = (): void => {
        clearTimeout(timer);
        stop();
        resolve(collected);
      };
    });
    return { ok: true, events };
  }, WatchRequest);

  return {
    gateway,
    ensureSandbox,
    handle(sandbox: string, socket: net.Socket): void {
      if (gateway.hasSandbox(sandbox)) {
        gateway.handle(sandbox, socket);
        return;
      }
      socket.pause();
      socket.on("error", () => {});
      ensureSandbox(sandbox).then(
        () => gateway.handle(sandbox, socket),
        (e: Error) => {
          // Fail closed: no policy, no egress.
          context.log(`egress: cannot register ${sandbox}: ${e instanceof PolicyError ? e.format() : e.message}`);
          socket.destroy();
        },
      );
    },
    close: async () => {
      await gateway.close();
      unfollow();
      await history.close();
    },
  };
}
