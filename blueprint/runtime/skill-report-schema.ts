// The `skill test` report's shape, apart from the code that fills it (skill-report.ts): the
// plugin reads it through protocol.ts in OpenClaw's own process, on every verb, so this module
// imports only zod and the evidence schemas (not the policy serializer and its YAML library).
import { z } from "zod";
import { EgressAttemptSchema, FileChangeSchema, ToolCallSchema } from "./skill-evidence.js";

export const RISK_CODES = ["credential-path", "raw-ip", "download-and-execute", "write-outside-workspace", "reach-host", "escalation", "undeclared-host"] as const;
export type RiskCode = (typeof RISK_CODES)[number];

const ReasonSchema = z.strictObject({ code: z.enum(RISK_CODES), message: z.string(), evidence: z.array(z.string()) });
export type Reason = z.infer<typeof ReasonSchema>;

const EgressGroupSchema = z.strictObject({
  binary: z.string().nullable(),
  host: z.string(),
  port: z.number(),
  count: z.number(),
  requests: z.array(z.strictObject({ method: z.string(), path: z.string(), count: z.number() })),
  policyAllows: z.boolean(),
  prompts: z.array(z.number()),
});
export type EgressGroup = z.infer<typeof EgressGroupSchema>;

export const SkillReportSchema = z.strictObject({
  skill: z.strictObject({ name: z.string(), source: z.string(), description: z.string() }),
  sandbox: z.strictObject({ name: z.string(), kept: z.boolean() }),
  mode: z.enum(["observe", "policy"]),
  policyFile: z.string().nullable(),
  prompts: z.array(z.strictObject({ index: z.number(), text: z.string(), exitCode: z.number(), durationMs: z.number(), output: z.string() })),
  modelCalls: z.number(),
  /** Requests OpenClaw itself made to its own services (catalog, update check, ClawHub). */
  openclawCalls: z.number(),
  egress: z.array(EgressGroupSchema),
  attempts: z.array(EgressAttemptSchema.extend({ prompt: z.number() })),
  toolCalls: z.array(ToolCallSchema),
  files: z.array(FileChangeSchema),
  verdict: z.strictObject({ risky: z.boolean(), reasons: z.array(ReasonSchema) }),
  /** Attempts the policy in force would refuse (the base policy in observe mode, --policy's otherwise). */
  denials: z.number(),
  suggestedPolicy: z.string(),
  exitCode: z.number(),
});
export type SkillReport = z.infer<typeof SkillReportSchema>;
