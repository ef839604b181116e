// The one schema for host-held credentials: what `credentials add` accepts, what
// `<stateDir>/credentials.json` holds, and where a credential may be sent (its bindings).
import { z } from "zod";

export const CREDENTIAL_KINDS = [
  "openai",
  "anthropic",
  "nvidia",
  "gemini",
  "openrouter",
  "github",
  "slack-bot",
  "slack-app",
  "discord-bot",
  "telegram-bot",
  "brave",
  "generic",
] as const;
export const CredentialKindSchema = z.enum(CREDENTIAL_KINDS);
export type CredentialKind = z.infer<typeof CredentialKindSchema>;

export const CREDENTIAL_NAME_RULE =
  "a credential name is 1-63 characters: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit";
export const CredentialNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, CREDENTIAL_NAME_RULE);

// Printable ASCII without spaces: every real API key and bot token fits, and a value that could
// split a header line (CR, LF) or a URL can never be substituted into a request.
export const SecretSchema = z
  .string()
  .min(1, "the secret is empty")
  .max(8192, "the secret is longer than 8 KiB")
  .regex(/^[\x21-\x7e]+$/, "a secret is one line of printable ASCII characters without spaces");

/** A host name (lowercase) or `*.` + a domain, which matches its subdomains only. */
const HostPatternSchema = z
  .string()
  .transform((h) => h.toLowerCase())
  .pipe(z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, "a host name, or *.domain for its subdomains"));
const PortSchema = z.number().int().min(1).max(65535);

export const BindingSchema = z.discriminatedUnion("in", [
  /** The placeholder may appear anywhere in this header's value (`Bearer …`, `Bot …`, inside `Basic` credentials). */
  z.strictObject({ in: z.literal("header"), host: HostPatternSchema, port: PortSchema.default(443), name: z.string().regex(/^[A-Za-z0-9-]+$/).transform((n) => n.toLowerCase()) }),
  /** The placeholder is one whole path segment after `prefix` (Telegram: `/bot<token>/…` → prefix "bot"). */
  z.strictObject({ in: z.literal("path"), host: HostPatternSchema, port: PortSchema.default(443), prefix: z.string().regex(/^[A-Za-z0-9._~-]*$/).default("") }),
  /** The placeholder is the value of this query parameter. */
  z.strictObject({ in: z.literal("query"), host: HostPatternSchema, port: PortSchema.default(443), name: z.string().min(1) }),
]);
export type Binding = z.infer<typeof BindingSchema>;
export type BindingInput = z.input<typeof BindingSchema>;

export const StoredCredentialSchema = z.strictObject({
  name: CredentialNameSchema,
  kind: CredentialKindSchema,
  secret: SecretSchema,
  /** Absent: the kind's default bindings. Empty: usable by the inference router only. */
  bindings: z.array(BindingSchema).optional(),
  /** Generic credentials only: what the placeholder starts with, for SDKs that check a prefix. */
  placeholderPrefix: z.string().regex(/^[A-Za-z0-9_-]{0,32}$/).optional(),
  addedAt: z.string(),
});
export type StoredCredential = z.infer<typeof StoredCredentialSchema>;

export const CredentialsFileSchema = z.strictObject({
  version: z.literal(1),
  /** Keys the placeholders (HMAC): stable per (sandbox, credential), unguessable without this file. */
  placeholderKey: z.string().regex(/^[0-9a-f]{64}$/),
  credentials: z.array(StoredCredentialSchema),
});
export type CredentialsFile = z.infer<typeof CredentialsFileSchema>;

export const AddCredentialInputSchema = z.strictObject({
  name: CredentialNameSchema,
  /** Defaults to the name when the name is a kind (`credentials add openai`). */
  kind: CredentialKindSchema.optional(),
  secret: SecretSchema,
  bindings: z.array(BindingSchema).optional(),
  placeholderPrefix: z.string().regex(/^[A-Za-z0-9_-]{0,32}$/).optional(),
});
export type AddCredentialInput = z.input<typeof AddCredentialInputSchema>;

/** What `credentials list` shows: never the secret. */
export interface CredentialSummary {
  name: string;
  kind: CredentialKind;
  bindings: Binding[];
  /** First 8 hex digits of the secret's SHA-256: tells two keys apart, reveals nothing usable. */
  fingerprint: string;
  addedAt: string;
}
