// Errors in the shape the client's SDK parses — OpenAI `{error:{message,type,code}}`, Anthropic
// `{type:"error",error:{type,message}}`, Ollama `{error}` — so OpenClaw shows the message instead
// of "unexpected response". Upstream messages pass through with the provider's status, minus
// anything that looks like a key, plus what to do next.
import type { ServerResponse } from "node:http";
import type { ClientShape } from "./endpoints.js";

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};
const OPENAI_TYPES: Record<number, string> = { 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error" };

export function errorBody(shape: ClientShape, status: number, code: string, message: string): string {
  if (shape === "anthropic") return JSON.stringify({ type: "error", error: { type: ANTHROPIC_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), message, code } });
  if (shape === "ollama") return JSON.stringify({ error: message, code });
  return JSON.stringify({ error: { message, type: OPENAI_TYPES[status] ?? (status >= 500 ? "server_error" : "invalid_request_error"), code, param: null } });
}

export function sendError(res: ServerResponse, shape: ClientShape, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(shape, status, code, message);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

// Key-shaped strings a provider might echo (some put the key they received in a 401 message).
const KEYLIKE = [
  /\b(?:sk|rk|pk)-[A-Za-z0-9_*.-]{8,}/g,
  /\bnvapi-[A-Za-z0-9_*-]{8,}/g,
  /\bAIza[A-Za-z0-9_*-]{8,}/g,
  /\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_*]{8,}/g,
  /\bxox[abposr]-[A-Za-z0-9*-]{8,}/g,
  /\bBearer\s+[^\s"',]+/gi,
];

/** Removes every spelling of each secret, and anything key-shaped, from upstream text. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64"), JSON.stringify(secret).slice(1, -1)])) {
      out = out.split(form).join("[redacted]");
    }
  }
  for (const pattern of KEYLIKE) out = out.replace(pattern, "[redacted]");
  return out;
}

/** The message an upstream error body carries, in any of the shapes providers use. */
export function upstreamMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    const candidates = [
      (parsed as { error?: { message?: unknown } })?.error?.message,
      (parsed as { error?: unknown })?.error,
      (parsed as { message?: unknown })?.message,
      (parsed as { detail?: unknown })?.detail,
      (Array.isArray(parsed) ? (parsed[0] as { error?: { message?: unknown } } | undefined)?.error?.message : undefined),
    ];
    const found = candidates.find((c): c is string => typeof c === "string" && c !== "");
    if (found !== undefined) return found;
  } catch {
    // not JSON: plain text below
  }
  const text = body.trim();
  return text === "" ? undefined : text.slice(0, 500);
}

export interface HintContext {
  sandbox: string;
  providerLabel: string;
  provider: string;
  model: string;
  credential: string | undefined;
  envVar: string | undefined;
}

/** What to do about an upstream status, for the operator reading OpenClaw's error. */
export function hintFor(status: number, ctx: HintContext): string {
  const add = `\`openclaw nemoclaw credentials add ${ctx.credential ?? ctx.provider} --from-env ${ctx.envVar ?? "VAR"}\``;
  if (status === 401) return ctx.credential === undefined ? `the server wants a key; store one with ${add} and set the route with --credential` : `the stored key was rejected; run ${add}`;
  if (status === 403) return `the stored key is not allowed to use ${ctx.model}; check its permissions, or run ${add}`;
  if (status === 404) return `check the model name (${ctx.model}) and the base URL; change them with \`openclaw nemoclaw ${ctx.sandbox} inference set\``;
  if (status === 429) return "the provider is rate-limiting this key; wait, or raise its quota";
  if (status >= 500) return `${ctx.providerLabel} failed; try again later`;
  return `see \`openclaw nemoclaw ${ctx.sandbox} inference get\` for the route`;
}
