// The request the router sends: the route's base URL plus the endpoint's path, the allow-listed
// client headers, the real key, and a DNS lookup that refuses addresses the route may not reach
// (so a name that resolves, or rebinds, to a private or metadata address gains nothing).
import { promises as dns, type LookupAddress, type LookupOptions } from "node:dns";
import type { IncomingHttpHeaders } from "node:http";
import type { LookupFunction } from "node:net";
import type { Endpoint } from "./endpoints.js";
import type { ProviderSpec } from "./providers/types.js";
import { checkUpstreamAddress, routeBaseUrl, type Route } from "./route.js";

export const DEFAULT_ANTHROPIC_VERSION = "2023-06-01";

/** Where an endpoint lives under a base URL: OpenAI-shaped bases end with the version, Anthropic's and Ollama's roots do not. */
export function upstreamUrl(route: Route, endpoint: Endpoint, query: string): URL {
  const base = new URL(routeBaseUrl(route));
  const basePath = base.pathname.replace(/\/+$/, "");
  const root = basePath.replace(/\/v1$/, "");
  let path: string;
  if (endpoint.shape === "openai") path = `${basePath}${endpoint.path.slice("/v1".length)}`;
  else path = `${root}${endpoint.path}`;
  return new URL(`${path}${query}`, base.origin);
}

export function upstreamHeaders(spec: ProviderSpec, incoming: IncomingHttpHeaders, secret: string | undefined, bodyBytes: number | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of spec.allowedHeaders) {
    const v = incoming[name];
    if (typeof v === "string") out[name] = v;
  }
  // Identity encoding keeps the stream readable for token counts; on loopback and for SSE
  // compression buys nothing.
  out["accept-encoding"] = "identity";
  if (bodyBytes !== undefined) {
    out["content-type"] = "application/json";
    out["content-length"] = String(bodyBytes);
  }
  if (spec.shape === "anthropic" && out["anthropic-version"] === undefined) out["anthropic-version"] = DEFAULT_ANTHROPIC_VERSION;
  if (secret !== undefined) {
    if (spec.auth === "bearer") out.authorization = `Bearer ${secret}`;
    else out["x-api-key"] = secret;
  }
  return out;
}

const PASSED_RESPONSE_HEADERS = new Set(["content-type", "content-length", "cache-control", "retry-after", "x-request-id", "request-id", "openai-processing-ms", "openai-version"]);

export function responseHeaders(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (PASSED_RESPONSE_HEADERS.has(name) || name.startsWith("x-ratelimit-") || name.startsWith("anthropic-ratelimit-")) out[name] = value;
  }
  return out;
}

export class AddressRefusedError extends Error {
  readonly code = "EROUTEBLOCKED";
}

/** How a name becomes addresses before the address rule is applied to them. */
export type Resolve = (hostname: string, options: LookupOptions) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname, options) => dns.lookup(hostname, { ...options, all: true });

/** `resolve` (dns.lookup unless the router was given another), then the route's address rule on every answer. */
export function guardedLookup(allowPrivate: boolean, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options).then(
      (addresses) => {
        for (const a of addresses) {
          const verdict = checkUpstreamAddress(a.address, allowPrivate);
          if (!verdict.ok) {
            callback(new AddressRefusedError(`${hostname} resolves to ${verdict.reason}`), "", 0);
            return;
          }
        }
        if (addresses.length === 0) callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
        else if ((options as { all?: boolean }).all === true) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        else callback(null, addresses[0]?.address ?? "", addresses[0]?.family ?? 4);
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 0),
    );
  };
}
