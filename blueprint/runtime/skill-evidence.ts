// What `skill test` collects, each from the layer that saw it: egress attempts from the gateway's
// audit log (observe mode records every one, with method and path), the tool calls the agent made
// from OpenClaw's session transcripts (exec commands and in-process file tools alike), and the
// files written under /sandbox from a listing taken before and after the prompts.
import { z } from "zod";
import type { OcsfEvent } from "../gateway/audit.js";

export const EgressAttemptSchema = z.strictObject({
  time: z.number(),
  binary: z.string().nullable(),
  host: z.string(),
  port: z.number(),
  method: z.string().optional(),
  path: z.string().optional(),
  /** Whether the policy in force would have let it out (observe mode refuses it anyway). */
  policyAllows: z.boolean(),
  reason: z.string(),
});
export type EgressAttempt = z.infer<typeof EgressAttemptSchema>;

export const ToolCallSchema = z.strictObject({
  prompt: z.number().int(),
  tool: z.string(),
  /** The exec command, or the call's arguments as JSON. */
  text: z.string(),
  /** The start of what the tool answered, when the transcript has it. */
  result: z.string().optional(),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const FileChangeSchema = z.strictObject({
  path: z.string(),
  change: z.enum(["added", "changed", "removed"]),
  size: z.number(),
  executable: z.boolean(),
});
export type FileChange = z.infer<typeof FileChangeSchema>;

/**
 * OpenClaw's own services (model catalog, update check, ClawHub feeds), which every turn asks
 * for whatever the skill does: counted apart, not blamed on the skill. A skill that calls them
 * itself is not told apart from OpenClaw by this.
 */
const OPENCLAW_SERVICES = /(^|\.)openclaw\.ai$|^clawhub\.ai$/i;

/** Egress attempts of the skill's run; the model's calls to the router and OpenClaw's own are counted apart. */
export function egressAttempts(events: readonly OcsfEvent[], since: number, internalHosts: readonly string[]): { attempts: EgressAttempt[]; modelCalls: number; openclawCalls: number } {
  const attempts: EgressAttempt[] = [];
  let modelCalls = 0;
  let openclawCalls = 0;
  const events2 = events.filter((e) => e.time >= since);
  // A CONNECT that was terminated shows again as the requests inside: keep the requests, and
  // the bare CONNECT only when nothing was read inside it (a client that refused our CA).
  const requested = new Set(events2.filter((e) => e.http_request !== undefined).map((e) => `${e.actor.process.pid}|${e.dst_endpoint.hostname}|${e.dst_endpoint.port}`));
  for (const e of events2) {
    const u = e.unmapped;
    const host = e.dst_endpoint.hostname;
    const allowedInternal = internalHosts.includes(host) && u.decision === "allow";
    if (allowedInternal) {
      if (e.http_request !== undefined) modelCalls++;
      continue;
    }
    if (u.decision === "close") continue;
    if (OPENCLAW_SERVICES.test(host)) {
      if (e.http_request !== undefined) openclawCalls++;
      continue;
    }
    if (e.http_request === undefined && requested.has(`${e.actor.process.pid}|${host}|${e.dst_endpoint.port}`)) continue;
    attempts.push({
      time: e.time,
      binary: e.actor.process.file.path,
      host,
      port: e.dst_endpoint.port,
      ...(e.http_request === undefined ? {} : { method: e.http_request.http_method, path: String(e.http_request.url.path) }),
      policyAllows: u.observed === "allowed" || (u.observed === undefined && u.decision === "allow"),
      reason: e.message,
    });
  }
  return { attempts, modelCalls, openclawCalls };
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(textOf).join("");
  if (value !== null && typeof value === "object" && "text" in value) return textOf((value as { text: unknown }).text);
  return "";
}

/**
 * Tool calls in an OpenClaw session transcript (JSON lines). The shapes differ between message
 * kinds, so this looks for any object naming a tool with arguments (`toolCall`, OpenAI
 * `function`, Anthropic `tool_use`) and for tool results by their call id.
 */
export function transcriptToolCalls(text: string, prompt: number): ToolCall[] {
  const calls = new Map<string, { tool: string; args: unknown }>();
  const results = new Map<string, string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    const id = typeof o.id === "string" ? o.id : typeof o.toolCallId === "string" ? o.toolCallId : undefined;
    const args = o.arguments ?? o.input ?? o.args;
    if (typeof o.name === "string" && args !== undefined && (o.type === "toolCall" || o.type === "tool_use" || o.type === "function" || o.type === undefined)) {
      calls.set(id ?? `${calls.size}`, { tool: o.name, args: typeof args === "string" ? safeJson(args) : args });
    }
    const resultId = typeof o.toolCallId === "string" ? o.toolCallId : typeof o.tool_call_id === "string" ? o.tool_call_id : typeof o.tool_use_id === "string" ? o.tool_use_id : undefined;
    if (resultId !== undefined && (o.role === "toolResult" || o.role === "tool" || o.type === "tool_result")) results.set(resultId, textOf(o.content).slice(0, 500));
    for (const child of Object.values(o)) if (child !== null && typeof child === "object") visit(child);
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const parsed = safeJson(line);
    if (parsed !== undefined) visit(parsed);
  }
  return [...calls.entries()].map(([id, c]) => {
    const args = c.args as Record<string, unknown> | undefined;
    const text = typeof args?.command === "string" ? args.command : JSON.stringify(c.args ?? {});
    const result = results.get(id);
    return { prompt, tool: c.tool, text, ...(result === undefined ? {} : { result }) };
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Shell that lists every file under `root` (pruning `skip`): `<mode> <size> <mtime> <path>` per line. */
export function listingCommand(root: string, skip: readonly string[]): string[] {
  const prune = skip.flatMap((p, i) => [...(i > 0 ? ["-o"] : []), "-path", p]);
  return ["find", root, "-xdev", "(", ...prune, ")", "-prune", "-o", "-type", "f", "-printf", "%m %s %T@ %p\\n"];
}

interface Listed {
  mode: number;
  size: number;
  mtime: string;
}

function parseListing(text: string): Map<string, Listed> {
  const out = new Map<string, Listed>();
  for (const line of text.split("\n")) {
    const m = /^([0-7]+) (\d+) (\S+) (.+)$/.exec(line);
    if (m) out.set(m[4] as string, { mode: parseInt(m[1] as string, 8), size: Number(m[2]), mtime: m[3] as string });
  }
  return out;
}

/** Files added, changed or removed between two listings. */
export function diffListings(before: string, after: string, ignore: (p: string) => boolean): FileChange[] {
  const a = parseListing(before);
  const b = parseListing(after);
  const changes: FileChange[] = [];
  for (const [p, f] of b) {
    if (ignore(p)) continue;
    const old = a.get(p);
    if (old === undefined || old.size !== f.size || old.mtime !== f.mtime || old.mode !== f.mode) {
      changes.push({ path: p, change: old === undefined ? "added" : "changed", size: f.size, executable: (f.mode & 0o111) !== 0 });
    }
  }
  for (const [p, f] of a) if (!b.has(p) && !ignore(p)) changes.push({ path: p, change: "removed", size: f.size, executable: (f.mode & 0o111) !== 0 });
  return changes.sort((x, y) => x.path.localeCompare(y.path));
}
