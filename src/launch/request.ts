import { z } from "zod";
import { SandboxNameSchema } from "../config/schema.js";

/**
 * What the host gateway process hands, through execve's argv, to the launch step
 * (exec-gateway.ts) that replaces it. Only names and paths: nothing secret.
 */
export const LaunchRequestSchema = z
  .object({
    name: SandboxNameSchema,
    port: z.number().int().min(1).max(65535),
    stateDir: z.string().min(1),
    dockerHost: z.string().optional(),
    /** OpenClaw's gateway lock folder (<OpenClaw state>/tmp/openclaw-<uid>): its locks name this pid. */
    lockDir: z.string().min(1),
  })
  .strict();
export type LaunchRequest = z.infer<typeof LaunchRequestSchema>;

/** Set to 1 for an explicitly unsandboxed gateway: warned about on every launch. */
export const NO_SANDBOX_ENV = "NEMOCLAW_NO_SANDBOX";
/** Set by the service wrapper (bin/nemoclaw-gateway-wrapper): a gateway with no sandbox configured refuses to start. */
export const REQUIRE_SANDBOX_ENV = "NEMOCLAW_REQUIRE_SANDBOX";
