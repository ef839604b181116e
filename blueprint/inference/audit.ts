// The inference audit log: `<stateDir>/sandboxes/<name>/inference/inference.jsonl`, one JSON line
// per call — who, which provider and model, status, latency, time to first token, tokens, bytes —
// and never a prompt, a completion or a key. Rotated by size like the egress log (`file.1` …
// `file.N`); writes are batched per event-loop turn and never throw into a request.
import path from "node:path";
import { z } from "zod";
import { JsonlLog, readJsonl } from "../state/jsonl-log.js";
import { sandboxDir } from "../state/paths.js";

export const InferenceEventSchema = z.strictObject({
  time: z.string(),
  sandbox: z.string(),
  endpoint: z.string(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  /** ok: answered; upstream_error: the provider said no; refused: the router said no; … */
  outcome: z.enum(["ok", "upstream_error", "refused", "unreachable", "idle_timeout", "client_closed"]),
  status: z.number().int(),
  reason: z.string().optional(),
  stream: z.boolean(),
  latencyMs: z.number(),
  ttftMs: z.number().optional(),
  tokens: z.strictObject({ input: z.number().optional(), output: z.number().optional() }).optional(),
  bytesUp: z.number().int(),
  bytesDown: z.number().int(),
});
export type InferenceEvent = z.infer<typeof InferenceEventSchema>;

export function inferenceLogFile(stateDir: string, sandbox: string): string {
  return path.join(sandboxDir(stateDir, sandbox), "inference", "inference.jsonl");
}

export type { RotationOptions } from "../state/jsonl-log.js";

/** The inference audit log, batched and rotated by size (state/jsonl-log.ts). */
export class InferenceAuditLog extends JsonlLog {
  write(event: InferenceEvent): void {
    this.append(event);
  }
}

/** Reads the events back, oldest rotated file first, for `logs --inference`; torn lines are skipped. */
export function readInferenceEvents(file: string, keep = 5): Promise<InferenceEvent[]> {
  return readJsonl(file, InferenceEventSchema, keep);
}
