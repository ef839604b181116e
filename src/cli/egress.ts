// The egress verbs: pending approvals and decisions (`approvals`, `approve`, `deny`), a sandbox's
// live network policy (`<name> policy get|set|diff|add-preset`) and its egress log (`<name> logs
// --egress`). Each is one call to the host daemon's control API, made by the runtime.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { UserError } from "../errors.js";
import { visible, visibleJson } from "../../blueprint/state/terminal-text.js";
import { egressLineTime, unprinted, type FollowCursor } from "./log-follow.js";
import { printJson, renderFields } from "./output.js";

type Protocol = typeof import("../../blueprint/runtime/protocol.js");
type Routes = Protocol["EgressRoutes"];
type Route = "approvals/list" | "approvals/decide" | "approvals/wait" | "policy/get" | "policy/set" | "policy/diff" | "policy/add-preset" | "logs";

function call<T>(config: ResolvedConfig, route: Route, body: Record<string, unknown>, schema: (r: Routes) => z.ZodType<T>): Promise<T> {
  return runBlueprint({ command: "egress.call", stateDir: config.stateDir, route, body }, (p) => schema(p.EgressRoutes));
}

type Issue = { file: string; line: number; column: number; field: string; message: string };

/** A route's `{ok:false}` answer becomes a UserError with its located issues, if any. */
function unwrap<T extends { ok: boolean }>(answer: T): Extract<T, { ok: true }> {
  if (answer.ok) return answer as Extract<T, { ok: true }>;
  const failure = answer as unknown as { message: string; error?: string; issues?: Issue[] };
  const details = (failure.issues ?? []).map((i) => `${i.file}:${i.line}:${i.column} ${i.field}: ${i.message}`);
  const hint =
    failure.error === "invalid-policy"
      ? "fix the lines above; the policy in force is unchanged"
      : failure.error === "recreate-needed"
        ? "static sections change only when the sandbox is recreated: `openclaw nemoclaw <name> destroy --yes` then `sandbox create --policy FILE`"
        : undefined;
  throw new UserError(failure.message, hint, details);
}

type Approval = z.infer<Routes["ApprovalsListResponse"]>["approvals"][number];

/**
 * One approval for people. Binary, host and path come from inside the sandbox: shown
 * terminal-safe. `held` is what one decision releases (identical requests share an approval).
 */
export function describeApproval(a: Approval): string {
  const what = a.request ? `${a.request.method} ${a.request.path}` : "connection";
  const who = `${a.binary ?? "unknown binary"}${a.caller.pid ? `(${a.caller.pid})` : ""}`;
  const held = `${a.waiting} request${a.waiting === 1 ? "" : "s"} held`;
  return visible(`  ${a.id}  [${a.sandbox}] ${who} -> ${a.host}:${a.port}  ${what}  (${a.status}, ${held}, expires ${a.expiresAt})`);
}

/** One settled approval: what was asked and how it ended. */
function describeDecided(a: Approval & { decidedAt: string }): string {
  const what = a.request ? `${a.request.method} ${a.request.path}` : "connection";
  return visible(`  ${a.id}  [${a.sandbox}] ${a.binary ?? "unknown binary"} -> ${a.host}:${a.port}  ${what}  ${a.status} at ${a.decidedAt}`);
}

export async function approvalsList(config: ResolvedConfig, opts: { sandbox?: string; watch?: boolean; json?: boolean }): Promise<void> {
  const filter = opts.sandbox ? { sandbox: opts.sandbox } : {};
  const { approvals, decided = [] } = await call(config, "approvals/list", filter, (r) => r.ApprovalsListResponse);
  const pending = approvals.filter((a) => a.status === "pending");
  if (opts.json && !opts.watch) {
    printJson({ approvals: pending, decided });
    return;
  }
  if (!opts.json) {
    const lines = ["Pending egress approvals", ""];
    lines.push(...(pending.length ? pending.map(describeApproval) : ["  none"]));
    lines.push("", "  Decide: openclaw nemoclaw approve <id> [--always] | openclaw nemoclaw deny <id> [--always]");
    // Kept on disk by the daemon: still listed after it restarts or the host reboots.
    if (decided.length) lines.push("", "Decided earlier (latest last)", "", ...decided.map(describeDecided));
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (!opts.watch) return;
  for (;;) {
    const answer = await call(config, "approvals/wait", { ...filter, waitMs: 8_000 }, (r) => r.ApprovalsWaitResponse);
    for (const event of answer.events) {
      if (opts.json) process.stdout.write(`${visibleJson(JSON.stringify(event))}\n`);
      else process.stdout.write(`${event.type === "pending" ? "new " : `${event.approval.status} `}${describeApproval(event.approval).trim()}\n`);
    }
  }
}

export async function approvalsDecide(
  config: ResolvedConfig,
  id: string,
  decision: "approve" | "deny",
  opts: { always?: boolean; allowIp?: string[]; json?: boolean },
): Promise<void> {
  const answer = unwrap(
    await call(
      config,
      "approvals/decide",
      { id, decision, always: Boolean(opts.always), ...(opts.allowIp?.length ? { allowedIps: opts.allowIp } : {}) },
      (r) => r.ApprovalsDecideResponse,
    ),
  );
  if (opts.json) {
    printJson(answer);
    return;
  }
  const a = answer.approval;
  const verdict = decision === "approve" ? (opts.always ? "Allowed always (rule added to the sandbox's policy)" : "Allowed once") : opts.always ? "Denied always" : "Denied";
  const released = decision === "approve" && !opts.always ? [["Released", `${a.waiting} held request${a.waiting === 1 ? "" : "s"}`] as const] : [];
  const fields: Array<readonly [string, string]> = [["Approval", a.id], ["Sandbox", a.sandbox], ["Destination", visible(`${a.host}:${a.port}`)], ["Binary", visible(a.binary ?? "unknown")], ...released];
  process.stdout.write(`${renderFields(verdict, fields)}\n`);
}

export async function sandboxPolicy(
  config: ResolvedConfig,
  sandbox: string,
  verb: "get" | "set" | "diff" | "add-preset",
  arg: string | undefined,
  opts: { full?: boolean; json?: boolean },
): Promise<void> {
  const need = (what: string): string => {
    if (!arg) throw new UserError(`openclaw nemoclaw ${sandbox} policy ${verb} needs ${what}`, `e.g. openclaw nemoclaw ${sandbox} policy ${verb} ${what.toUpperCase()}`);
    return arg;
  };
  const fileBody = async (): Promise<{ yaml: string; file: string }> => {
    const file = path.resolve(need("file"));
    const yaml = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new UserError(`cannot read ${file}: ${e.code ?? e.message}`, "check the path");
    });
    return { yaml, file };
  };
  if (verb === "get") {
    const answer = unwrap(await call(config, "policy/get", { sandbox, full: Boolean(opts.full) }, (r) => r.PolicyGetResponse));
    if (opts.json) printJson(answer);
    // A YAML comment, so the output stays a policy file `policy set` accepts.
    else process.stdout.write(`# Binary scoping: ${answer.binaryScoping}\n${answer.yaml}`);
    return;
  }
  if (verb === "diff") {
    const answer = unwrap(await call(config, "policy/diff", { sandbox, ...(await fileBody()) }, (r) => r.PolicyDiffResponse));
    if (opts.json) return printJson(answer);
    const fields: Array<[string, string]> = [
      ["Added", answer.added.join(", ") || "none"],
      ["Removed", answer.removed.join(", ") || "none"],
      ["Changed", answer.changed.join(", ") || "none"],
      ["Recreate needed", answer.changes.recreateNeeded ? `yes (${answer.changes.static.join(", ")})` : "no"],
    ];
    process.stdout.write(`${renderFields(`Policy diff for ${sandbox}`, fields)}\n`);
    return;
  }
  const answer =
    verb === "set"
      ? unwrap(await call(config, "policy/set", { sandbox, ...(await fileBody()) }, (r) => r.PolicySetResponse))
      : unwrap(await call(config, "policy/add-preset", { sandbox, preset: need("preset") }, (r) => r.PolicyAddPresetResponse));
  if (opts.json) return printJson(answer);
  const fields: Array<[string, string]> = [
    ["Changed", answer.changes.dynamic.join(", ") || "nothing"],
    ["Connections closed", String(answer.closed)],
  ];
  process.stdout.write(`${renderFields(`Policy of ${sandbox} updated (in force now)`, fields)}\n`);
}

export async function egressLogs(config: ResolvedConfig, sandbox: string, opts: { follow?: boolean; json?: boolean; limit?: number }): Promise<void> {
  let cursor: FollowCursor | undefined;
  for (;;) {
    const answer = unwrap(await call(config, "logs", { sandbox, json: Boolean(opts.json), limit: 100_000 }, (r) => r.EgressLogsResponse));
    const next = unprinted(answer.lines, cursor, opts.limit ?? 200, egressLineTime);
    cursor = next.cursor;
    if (next.fresh.length) process.stdout.write(`${next.fresh.join("\n")}\n`);
    if (!opts.follow) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
