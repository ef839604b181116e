import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { derivePlaceholder } from "../../../blueprint/credentials/placeholders.js";
import { CREDENTIAL_KINDS, type CredentialKind } from "../../../blueprint/credentials/schema.js";

const key = randomBytes(32).toString("hex");
const cred = (kind: CredentialKind, secret = "s3cret-value", placeholderPrefix?: string) => ({
  name: `c-${kind}`,
  kind,
  secret,
  addedAt: "now",
  ...(placeholderPrefix === undefined ? {} : { placeholderPrefix }),
});

// The formats SDKs and servers check locally (prefixes, segment shapes, lengths).
const FORMATS: Record<CredentialKind, RegExp> = {
  openai: /^sk-proj-[A-Za-z0-9_-]{64}$/,
  anthropic: /^sk-ant-api03-[A-Za-z0-9_-]{93}AA$/,
  nvidia: /^nvapi-[A-Za-z0-9_-]{64}$/,
  gemini: /^AIza[A-Za-z0-9_-]{35}$/,
  openrouter: /^sk-or-v1-[0-9a-f]{64}$/,
  github: /^ghp_[A-Za-z0-9]{36}$/,
  "slack-bot": /^xoxb-[1-9]\d{11}-[1-9]\d{12}-[A-Za-z0-9]{24}$/,
  "slack-app": /^xapp-1-A[0-9A-Z]{10}-[1-9]\d{12}-[0-9a-f]{64}$/,
  "discord-bot": /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{38}$/,
  "telegram-bot": /^[1-9]\d{9}:AA[A-Za-z0-9_-]{33}$/,
  brave: /^BSA[A-Za-z0-9]{28}$/,
  generic: /^ncph_[A-Za-z0-9]{40}$/,
};

describe("placeholders", () => {
  it.each(CREDENTIAL_KINDS)("%s looks like the real format", (kind) => {
    expect(derivePlaceholder(key, "sb", cred(kind))).toMatch(FORMATS[kind]);
  });

  it("discord: the first segment decodes to a numeric bot id, as discord.js expects", () => {
    const p = derivePlaceholder(key, "sb", cred("discord-bot"));
    expect(Buffer.from(p.split(".")[0] ?? "", "base64url").toString()).toMatch(/^[1-9]\d{18}$/);
  });

  it("github: fine-grained and app tokens keep their family's prefix; generic takes a prefix", () => {
    expect(derivePlaceholder(key, "sb", cred("github", "github_pat_abc"))).toMatch(/^github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}$/);
    expect(derivePlaceholder(key, "sb", cred("github", "ghs_abc"))).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(derivePlaceholder(key, "sb", cred("generic", "x", "tok-"))).toMatch(/^tok-[A-Za-z0-9]{40}$/);
  });

  it("is deterministic for a key and distinct across sandboxes, credentials and keys", () => {
    const seen = new Set<string>();
    for (const sandbox of ["a", "b", "c"]) {
      for (const kind of CREDENTIAL_KINDS) {
        const p = derivePlaceholder(key, sandbox, cred(kind));
        expect(derivePlaceholder(key, sandbox, cred(kind))).toBe(p);
        seen.add(p);
      }
    }
    expect(seen.size).toBe(3 * CREDENTIAL_KINDS.length);
    expect(derivePlaceholder(randomBytes(32).toString("hex"), "a", cred("openai"))).not.toBe(derivePlaceholder(key, "a", cred("openai")));
  });
});
