// Destinations as requests name them: `host[:port]` authorities (CONNECT targets, Host headers,
// the authority of an absolute-form URL) and the origin-form path that follows a URL's authority.

import { canonicalHost } from "./policy-engine.js";

/** `host[:port]` / `[v6][:port]` → canonical host and port; undefined when malformed. */
export function parseAuthority(text: string | undefined, defaultPort: number | undefined): { host: string; port: number } | undefined {
  if (text === undefined || text.length === 0 || text.includes("@")) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (m === null) return undefined;
  const host = canonicalHost(m[1] ?? m[2] ?? "");
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (host === undefined || port === undefined || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** What follows an absolute URL's authority, as an origin-form target (`""` → `/`, `?q` → `/?q`). */
export function originForm(rest: string): string {
  return rest === "" ? "/" : rest.startsWith("?") ? `/${rest}` : rest;
}
