import { z } from "zod";

/**
 * The contract between the plugin and the runtime subprocess.
 * Request: one JSON argument on the command line. Reply: JSON lines on stdout, any number of
 * `progress` messages, then exactly one `result` or `error`. stderr is free-form diagnostics.
 */
export const RequestSchema = z.discriminatedUnion("command", [
  z.object({ command: z.literal("version") }).strict(),
  z
    .object({
      command: z.literal("doctor"),
      stateDir: z.string().min(1),
      dockerHost: z.string().optional(),
      ports: z.array(z.number().int().min(1).max(65535)),
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

export const VersionResultSchema = z.object({ version: z.string(), node: z.string() }).strict();

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
    presets: z.array(z.object({ name: z.string(), description: z.string(), allows: z.array(z.string()) }).strict()),
  })
  .strict();
export type PresetsResult = z.infer<typeof PresetsResultSchema>;
