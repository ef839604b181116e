// Placeholder secrets in the requests the gateway reads (plain HTTP, and HTTPS it terminated):
// on the way to an endpoint their credential is bound to (host, port, and the header, path
// segment or query parameter it may sit in) they are swapped for the real value; anywhere else
// the request is refused (`credential_endpoint_mismatch`). The matching is the credentials
// layer's (`substitute`); this file adds the I/O and decides which CONNECTs must be terminated
// so their requests can be read at all. A pure tunnel is never read: a placeholder inside one
// stays a placeholder, worthless to whoever receives it.
import type http from "node:http";
import { boundTo, substitute } from "../credentials/substitute.js";
import type { GatewayContext } from "./gateway-context.js";

export type Swap =
  | { ok: true; target: string; headers: http.OutgoingHttpHeaders; substituted: string[] }
  | { ok: false; status: 403 | 503; error: string; reason: string; next: string };

/** The request as it goes upstream: placeholders replaced, or a refusal saying why. */
export async function swapPlaceholders(
  ctx: GatewayContext,
  sandbox: string,
  destination: { host: string; port: number },
  target: string,
  headers: http.OutgoingHttpHeaders,
  /** Whether the upstream leg is TLS (or the runtime's own loopback listener). */
  encrypted: boolean,
): Promise<Swap> {
  const source = ctx.options.credentials;
  if (source === undefined) return { ok: true, target, headers, substituted: [] };
  let index;
  try {
    index = await source.placeholderIndex(sandbox);
  } catch (e) {
    // Fail closed: without the index we cannot tell a placeholder from any other string.
    return { ok: false, status: 503, error: "credentials unavailable", reason: `the host's credential store could not be read: ${(e as Error).message}`, next: "ask the operator to check `openclaw nemoclaw credentials list`" };
  }
  if (index.pattern === undefined) return { ok: true, target, headers, substituted: [] };
  const asText: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) asText[k] = v === undefined ? undefined : Array.isArray(v) ? v.map(String) : String(v);
  const result = substitute(index, { target, headers: asText }, destination);
  if (!result.ok) {
    return {
      ok: false,
      status: 403,
      error: "credential_endpoint_mismatch",
      reason: `credential_endpoint_mismatch: the placeholder of credential "${result.credential}" (in the ${result.where}) may not be sent to ${result.destination}; it was not replaced and the request was not sent`,
      next: `send it only where it is bound (openclaw nemoclaw credentials list shows the bindings), or ask the operator to bind it: openclaw nemoclaw credentials add ${result.credential} --bind ${result.destination}:…`,
    };
  }
  const first = result.substituted[0];
  if (first !== undefined && !encrypted) {
    // A real secret never crosses the network in clear text, whatever the binding says: plain
    // HTTP (absolute-form, or plaintext inside a CONNECT) to a bound endpoint is refused.
    return {
      ok: false,
      status: 403,
      error: "credential_plaintext",
      reason: `credential_plaintext: the placeholder of credential "${first.credential}" (in the ${first.where}) would be replaced in a request sent unencrypted to ${destination.host}:${destination.port}; it was not replaced and the request was not sent`,
      next: `use https:// for ${destination.host}`,
    };
  }
  return { ok: true, target: result.request.target, headers: result.request.headers as http.OutgoingHttpHeaders, substituted: result.substituted.map((s) => `${s.credential} (${s.where})`) };
}

/** A CONNECT to an endpoint some credential of the sandbox is bound to must be terminated, or the swap could not happen. */
export async function credentialBound(ctx: GatewayContext, sandbox: string, host: string, port: number): Promise<boolean> {
  const source = ctx.options.credentials;
  if (source === undefined || ctx.options.internalHandlers?.[host] !== undefined) return false;
  // Unreadable store: tunnel. Nothing can be substituted inside a tunnel, so nothing leaks.
  const index = await source.placeholderIndex(sandbox).catch(() => undefined);
  return index !== undefined && boundTo(index, { host, port });
}
