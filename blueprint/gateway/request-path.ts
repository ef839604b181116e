// Request targets, reduced to the one form rules are matched against. Upstream servers decode
// and resolve paths in their own ways, so anything that two reasonable servers could read
// differently — dot segments (plain, encoded or `..;`), empty segments, backslashes, encoded
// slashes, double encoding, control bytes, invalid UTF-8, `;` path parameters — is refused
// rather than rewritten: the path we match is then the path the upstream serves.
//
// `;` (raw or `%3B`): servlet containers, Spring and others strip `;params` from each segment
// before routing, so `/repos/a/b/hooks;x` is served as `/repos/a/b/hooks` while a deny rule on
// `/repos/*/*/hooks` would not match the text. Normalising would guess one server's rules;
// refusing is exact, and real APIs do not use matrix parameters.

export interface RequestTarget {
  /** Decoded path, e.g. `/repos/a b/x`. */
  path: string;
  /** Decoded query parameters in order. */
  query: Array<[string, string]>;
  /** The target exactly as received (origin-form), forwarded unchanged. */
  raw: string;
}

export type TargetResult = { ok: true; target: RequestTarget } | { ok: false; reason: string };

export interface TargetOptions {
  /** Endpoint's `allow_encoded_slash`: `%2F` in a path is refused unless true. */
  allowEncodedSlash?: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function percentDecode(text: string): string | undefined {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      bytes.push(...Buffer.from(text[i] ?? "", "utf8"));
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** Checks and decodes an origin-form request target (`/path?query`). */
export function parseRequestTarget(raw: string, options: TargetOptions = {}): TargetResult {
  const refuse = (reason: string): TargetResult => ({ ok: false, reason });
  if (!raw.startsWith("/")) return refuse("request target is not an absolute path");
  if (raw.includes("#")) return refuse("request target contains a fragment");
  const q = raw.indexOf("?");
  const rawPath = q === -1 ? raw : raw.slice(0, q);
  const rawQuery = q === -1 ? "" : raw.slice(q + 1);
  if (/[\\\x00-\x20\x7f]/.test(rawPath)) return refuse("path contains a backslash, space or control character");
  if (/%5c/i.test(rawPath)) return refuse("path contains an encoded backslash (%5C)");
  if (/%2f/i.test(rawPath) && options.allowEncodedSlash !== true) {
    return refuse("path contains an encoded slash (%2F); the endpoint does not set allow_encoded_slash");
  }
  const path = percentDecode(rawPath);
  if (path === undefined) return refuse("path has an invalid percent-encoding or is not UTF-8");
  if (/%[0-9A-Fa-f]{2}/.test(path)) return refuse("path is percent-encoded twice");
  if (/[\x00-\x1f\x7f\\]/.test(path)) return refuse("path decodes to a control character or backslash");
  const segments = path.split("/").slice(1);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? "";
    if (/^\.\.?(;.*)?$/.test(segment)) return refuse(`path has a dot segment ("${segment}"); send the resolved path`);
    if (segment === "" && i < segments.length - 1) return refuse("path has an empty segment (//)");
  }
  if (path.includes(";")) return refuse("path has a ; parameter (servers that strip path parameters would serve another path than the rules match)");
  const query: Array<[string, string]> = [];
  if (rawQuery.length > 0) {
    for (const part of rawQuery.split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const key = percentDecode((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, " "));
      const value = percentDecode((eq === -1 ? "" : part.slice(eq + 1)).replace(/\+/g, " "));
      if (key === undefined || value === undefined) return refuse("query has an invalid percent-encoding");
      query.push([key, value]);
    }
  }
  return { ok: true, target: { path, query, raw } };
}
