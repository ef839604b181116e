// What the egress proxy does with placeholders in a request it terminated: find them, check each
// one against the bindings of its credential for this destination and this place in the request,
// and either swap every one for the real value or refuse the whole request. Pure functions over a
// PlaceholderIndex (one per sandbox, built by the CredentialStore), so the proxy stays in charge
// of I/O and logging.
import type { Binding } from "./schema.js";

export interface IndexedCredential {
  name: string;
  placeholder: string;
  secret: string;
  bindings: readonly Binding[];
}

export interface PlaceholderIndex {
  readonly sandbox: string;
  readonly byPlaceholder: ReadonlyMap<string, IndexedCredential>;
  /** Matches any placeholder of this sandbox; undefined when it has none. */
  readonly pattern: RegExp | undefined;
}

export function buildPlaceholderIndex(sandbox: string, credentials: readonly IndexedCredential[]): PlaceholderIndex {
  const byPlaceholder = new Map(credentials.map((c) => [c.placeholder, c]));
  // Longest first, so a placeholder that contained another could never be matched short.
  const alternatives = [...byPlaceholder.keys()].sort((a, b) => b.length - a.length).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return { sandbox, byPlaceholder, pattern: alternatives.length === 0 ? undefined : new RegExp(alternatives.join("|"), "g") };
}

export interface FoundPlaceholder {
  credential: string;
  placeholder: string;
  index: number;
}

export function findPlaceholders(index: PlaceholderIndex, text: string): FoundPlaceholder[] {
  if (index.pattern === undefined) return [];
  const found: FoundPlaceholder[] = [];
  for (const m of text.matchAll(index.pattern)) {
    const credential = index.byPlaceholder.get(m[0]);
    if (credential !== undefined) found.push({ credential: credential.name, placeholder: m[0], index: m.index });
  }
  return found;
}

export type HeaderValue = string | readonly string[] | undefined;

export interface RequestParts {
  /** Origin-form target: path and query (`/bot123:AA…/getMe?x=1`). */
  target: string;
  headers: Readonly<Record<string, HeaderValue>>;
}

export interface Destination {
  host: string;
  port: number;
}

/** Where in the request a placeholder was found. */
export type Location = { in: "header"; name: string } | { in: "path"; segment: string } | { in: "query"; name: string };

export type SubstituteResult =
  | { ok: true; request: { target: string; headers: Record<string, HeaderValue> }; substituted: Array<{ credential: string; where: string }> }
  | { ok: false; reason: "credential_endpoint_mismatch"; credential: string; where: string; destination: string };

export function describeLocation(l: Location): string {
  if (l.in === "header") return `header ${l.name}`;
  if (l.in === "query") return `query parameter ${l.name}`;
  return "URL path";
}

function hostMatches(pattern: string, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (pattern.startsWith("*.")) return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
  return h === pattern;
}

function bindingAllows(b: Binding, destination: Destination, location: Location, placeholder: string): boolean {
  if (!hostMatches(b.host, destination.host) || b.port !== destination.port) return false;
  if (location.in !== b.in) return false;
  if (b.in === "header" && location.in === "header") return b.name === location.name;
  if (b.in === "query" && location.in === "query") return b.name === location.name;
  if (b.in === "path" && location.in === "path") return location.segment === `${b.prefix}${placeholder}`;
  return false;
}

/** Whether any of the sandbox's credentials may be sent to this host and port (its requests must then be read). */
export function boundTo(index: PlaceholderIndex, destination: Destination): boolean {
  for (const c of index.byPlaceholder.values()) {
    if (c.bindings.some((b) => hostMatches(b.host, destination.host) && b.port === destination.port)) return true;
  }
  return false;
}

// Characters a path segment or a query value may carry unencoded (RFC 3986 pchar, minus the
// query's own delimiters): real tokens (Telegram's `123:AA…`) pass unchanged.
const encodeFor = (s: string, extraUnsafe: string): string =>
  [...s].map((ch) => (/[A-Za-z0-9\-._~!$'()*,;:@]/.test(ch) && !extraUnsafe.includes(ch) ? ch : encodeURIComponent(ch))).join("");

interface Occurrence {
  credential: IndexedCredential;
  location: Location;
}

function occurrencesIn(index: PlaceholderIndex, text: string, location: (at: number) => Location): Occurrence[] {
  return findPlaceholders(index, text).map((f) => ({
    credential: index.byPlaceholder.get(f.placeholder) as IndexedCredential,
    location: location(f.index),
  }));
}

function replaceAll(index: PlaceholderIndex, text: string, encode: (secret: string) => string = (s) => s): string {
  if (index.pattern === undefined) return text;
  return text.replace(index.pattern, (p) => encode(index.byPlaceholder.get(p)?.secret ?? p));
}

/** Basic credentials are base64 (git over HTTPS: `x-access-token:<token>`); look inside them too. */
function decodeBasic(value: string): string | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  return m?.[1] === undefined ? undefined : Buffer.from(m[1], "base64").toString("latin1");
}

/**
 * Swap the sandbox's placeholders in `request` for the real secrets, if every placeholder in it
 * is bound to `destination` at the place it was found; otherwise refuse naming the first
 * credential that is not. A request without placeholders comes back unchanged.
 */
export function substitute(index: PlaceholderIndex, request: RequestParts, destination: Destination): SubstituteResult {
  if (index.pattern === undefined) return { ok: true, request: { target: request.target, headers: { ...request.headers } }, substituted: [] };
  const queryAt = request.target.indexOf("?");
  const path = queryAt === -1 ? request.target : request.target.slice(0, queryAt);
  const query = queryAt === -1 ? "" : request.target.slice(queryAt + 1);

  const found: Occurrence[] = [];
  found.push(
    ...occurrencesIn(index, path, (at) => {
      const start = path.lastIndexOf("/", at) + 1;
      const end = path.indexOf("/", at);
      return { in: "path", segment: path.slice(start, end === -1 ? undefined : end) };
    }),
  );
  found.push(
    ...occurrencesIn(index, query, (at) => {
      const start = query.lastIndexOf("&", at) + 1;
      const end = query.indexOf("&", at);
      const pair = query.slice(start, end === -1 ? undefined : end);
      const eq = pair.indexOf("=");
      // A placeholder in a parameter's name (or a pair without "=") binds to nothing: refused.
      if (eq === -1 || start + eq > at) return { in: "query", name: "" };
      try {
        return { in: "query", name: decodeURIComponent(pair.slice(0, eq).replace(/\+/g, " ")) };
      } catch {
        return { in: "query", name: "" };
      }
    }),
  );
  for (const [rawName, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    for (const v of typeof value === "string" ? [value] : value) {
      found.push(...occurrencesIn(index, v, () => ({ in: "header", name })));
      const basic = decodeBasic(v);
      if (basic !== undefined) found.push(...occurrencesIn(index, basic, () => ({ in: "header", name })));
    }
  }

  const dest = `${destination.host}:${destination.port}`;
  for (const o of found) {
    if (!o.credential.bindings.some((b) => bindingAllows(b, destination, o.location, o.credential.placeholder))) {
      return { ok: false, reason: "credential_endpoint_mismatch", credential: o.credential.name, where: describeLocation(o.location), destination: dest };
    }
  }
  if (found.length === 0) return { ok: true, request: { target: request.target, headers: { ...request.headers } }, substituted: [] };

  const headers: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const swap = (v: string): string => {
      const basic = decodeBasic(v);
      if (basic !== undefined && findPlaceholders(index, basic).length > 0) {
        return `Basic ${Buffer.from(replaceAll(index, basic), "latin1").toString("base64")}`;
      }
      return replaceAll(index, v);
    };
    headers[name] = value === undefined ? undefined : typeof value === "string" ? swap(value) : value.map(swap);
  }
  const target =
    replaceAll(index, path, (s) => encodeFor(s, "")) + (queryAt === -1 ? "" : `?${replaceAll(index, query, (s) => encodeFor(s, "&=+#"))}`);
  const substituted = [...new Map(found.map((o) => [`${o.credential.name}\0${describeLocation(o.location)}`, { credential: o.credential.name, where: describeLocation(o.location) }])).values()];
  return { ok: true, request: { target, headers }, substituted };
}
