// What nemoclaw knows about each kind of credential: where its real value may be sent by default,
// the environment variable it usually lives in, and how its placeholder looks. Placeholders copy
// the real format so SDKs that check a token locally (Slack's `xoxb-`, Telegram's `<id>:<hash>`,
// discord.js reading the bot id from the first segment) accept them.
import type { Binding, CredentialKind } from "./schema.js";

/** Deterministic random characters for one placeholder (see placeholders.ts). */
export interface PlaceholderRandom {
  chars(alphabet: string, count: number): string;
}

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const BASE64URL = `${BASE62}-_`;
export const DIGITS = "0123456789";
export const HEX = "0123456789abcdef";

export interface KindInfo {
  label: string;
  /** Where the CLI suggests reading it from (`--from-env`). */
  envVar: string;
  /** Where the egress proxy may put the real value when no bindings are given. */
  defaultBindings: Binding[];
  /** `secret` is the real value: a few formats have variants (GitHub's fine-grained tokens). */
  placeholder(r: PlaceholderRandom, secret: string, prefix: string | undefined): string;
}

const header = (host: string, name: string): Binding => ({ in: "header", host, port: 443, name });

export const KINDS: Record<CredentialKind, KindInfo> = {
  openai: {
    label: "OpenAI API key",
    envVar: "OPENAI_API_KEY",
    defaultBindings: [header("api.openai.com", "authorization")],
    placeholder: (r) => `sk-proj-${r.chars(BASE64URL, 64)}`,
  },
  anthropic: {
    label: "Anthropic API key",
    envVar: "ANTHROPIC_API_KEY",
    defaultBindings: [header("api.anthropic.com", "x-api-key")],
    placeholder: (r) => `sk-ant-api03-${r.chars(BASE64URL, 93)}AA`,
  },
  nvidia: {
    label: "NVIDIA API key (build.nvidia.com)",
    envVar: "NVIDIA_API_KEY",
    defaultBindings: [header("integrate.api.nvidia.com", "authorization")],
    placeholder: (r) => `nvapi-${r.chars(BASE64URL, 64)}`,
  },
  gemini: {
    label: "Google Gemini API key",
    envVar: "GEMINI_API_KEY",
    defaultBindings: [header("generativelanguage.googleapis.com", "x-goog-api-key")],
    placeholder: (r) => `AIza${r.chars(BASE64URL, 35)}`,
  },
  openrouter: {
    label: "OpenRouter API key",
    envVar: "OPENROUTER_API_KEY",
    defaultBindings: [header("openrouter.ai", "authorization")],
    placeholder: (r) => `sk-or-v1-${r.chars(HEX, 64)}`,
  },
  github: {
    label: "GitHub token",
    envVar: "GITHUB_TOKEN",
    defaultBindings: [header("api.github.com", "authorization"), header("github.com", "authorization")],
    placeholder: (r, secret) => {
      if (secret.startsWith("github_pat_")) return `github_pat_${r.chars(BASE62, 22)}_${r.chars(BASE62, 59)}`;
      const prefix = /^gh[pousr]_/.exec(secret)?.[0] ?? "ghp_";
      return `${prefix}${r.chars(BASE62, 36)}`;
    },
  },
  "slack-bot": {
    label: "Slack bot token",
    envVar: "SLACK_BOT_TOKEN",
    defaultBindings: [header("slack.com", "authorization")],
    placeholder: (r) => `xoxb-${r.chars("123456789", 1)}${r.chars(DIGITS, 11)}-${r.chars("123456789", 1)}${r.chars(DIGITS, 12)}-${r.chars(BASE62, 24)}`,
  },
  "slack-app": {
    label: "Slack app-level token (Socket Mode)",
    envVar: "SLACK_APP_TOKEN",
    defaultBindings: [header("slack.com", "authorization")],
    placeholder: (r) => `xapp-1-A${r.chars("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10)}-${r.chars("123456789", 1)}${r.chars(DIGITS, 12)}-${r.chars(HEX, 64)}`,
  },
  "discord-bot": {
    label: "Discord bot token",
    envVar: "DISCORD_BOT_TOKEN",
    defaultBindings: [header("discord.com", "authorization")],
    // The first segment is the bot's id (a snowflake) in base64, which discord.js decodes.
    placeholder: (r) => {
      const id = `${r.chars("123456789", 1)}${r.chars(DIGITS, 18)}`;
      return `${Buffer.from(id).toString("base64url")}.${r.chars(BASE64URL, 6)}.${r.chars(BASE64URL, 38)}`;
    },
  },
  "telegram-bot": {
    label: "Telegram bot token",
    envVar: "TELEGRAM_BOT_TOKEN",
    defaultBindings: [{ in: "path", host: "api.telegram.org", port: 443, prefix: "bot" }],
    placeholder: (r) => `${r.chars("123456789", 1)}${r.chars(DIGITS, 9)}:AA${r.chars(BASE64URL, 33)}`,
  },
  brave: {
    label: "Brave Search API key",
    envVar: "BRAVE_API_KEY",
    defaultBindings: [header("api.search.brave.com", "x-subscription-token")],
    placeholder: (r) => `BSA${r.chars(BASE62, 28)}`,
  },
  generic: {
    label: "Any other secret (give its bindings)",
    envVar: "",
    defaultBindings: [],
    placeholder: (r, _secret, prefix) => `${prefix ?? "ncph_"}${r.chars(BASE62, 40)}`,
  },
};

/** The kinds with what they need, for `credentials add --help` and onboarding. */
export function listCredentialKinds(): Array<{ kind: CredentialKind; label: string; envVar: string; defaultBindings: Binding[] }> {
  return (Object.keys(KINDS) as CredentialKind[]).map((kind) => ({
    kind,
    label: KINDS[kind].label,
    envVar: KINDS[kind].envVar,
    defaultBindings: KINDS[kind].defaultBindings,
  }));
}
