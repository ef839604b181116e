// The only requests the router answers, and how a request target is reduced to one of them.
// Matching is exact on the raw path: no normalisation, so `/v1/../x`, `//`, encoded bytes,
// trailing slashes and absolute URLs naming another host are simply not endpoints. The
// destination is never taken from the request: it is always the route's base URL.
import type { Shape } from "./providers/types.js";

/** The shape a client expects its errors in. Ollama's native API has its own. */
export type ClientShape = Shape | "ollama";

export interface Endpoint {
  id: "chat.completions" | "completions" | "responses" | "embeddings" | "models" | "messages" | "messages.count_tokens" | "ollama.chat";
  method: "GET" | "POST";
  path: string;
  /** The route shape it needs; `models` is answered by the router itself for either shape. */
  shape: ClientShape;
  /** Query parameters passed upstream; every other one (`key=` included) is dropped. */
  query: readonly string[];
}

export const ENDPOINTS: readonly Endpoint[] = [
  { id: "chat.completions", method: "POST", path: "/v1/chat/completions", shape: "openai", query: [] },
  { id: "completions", method: "POST", path: "/v1/completions", shape: "openai", query: [] },
  { id: "responses", method: "POST", path: "/v1/responses", shape: "openai", query: [] },
  { id: "embeddings", method: "POST", path: "/v1/embeddings", shape: "openai", query: [] },
  { id: "models", method: "GET", path: "/v1/models", shape: "openai", query: [] },
  // The Anthropic SDK's beta client adds `?beta=true`.
  { id: "messages", method: "POST", path: "/v1/messages", shape: "anthropic", query: ["beta"] },
  { id: "messages.count_tokens", method: "POST", path: "/v1/messages/count_tokens", shape: "anthropic", query: ["beta"] },
  { id: "ollama.chat", method: "POST", path: "/api/chat", shape: "ollama", query: [] },
];

const BY_PATH = new Map(ENDPOINTS.map((e) => [e.path, e]));

export const ROUTER_HOST = "inference.local";

export type Classified =
  | { ok: true; endpoint: Endpoint; query: string }
  | { ok: false; status: number; code: string; message: string; clientShape: ClientShape };

/** The shape to answer in when the request is not an endpoint: guessed from the path and headers. */
export function guessClientShape(path: string, headers: Record<string, unknown>): ClientShape {
  if (path.startsWith("/v1/messages") || headers["anthropic-version"] !== undefined) return "anthropic";
  if (path.startsWith("/api/")) return "ollama";
  return "openai";
}

function hostIsRouter(host: string, hosts: readonly string[]): boolean {
  const h = host.toLowerCase();
  return hosts.some((allowed) => h === allowed || h === `${allowed}:80`);
}

export function classifyRequest(method: string, target: string, headers: Record<string, unknown>, hosts: readonly string[] = [ROUTER_HOST]): Classified {
  let rest = target;
  // Absolute-form (a proxy request): only for the router's own name.
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/i.exec(target);
  if (absolute !== null) {
    const scheme = target.slice(0, target.indexOf(":")).toLowerCase();
    if (scheme !== "http" || !hostIsRouter(absolute[1] ?? "", hosts)) {
      return { ok: false, status: 400, code: "not_inference_local", message: `the inference router only answers for http://${ROUTER_HOST}; it is not a proxy to other hosts`, clientShape: guessClientShape(absolute[2] ?? "", headers) };
    }
    rest = absolute[2] === "" ? "/" : (absolute[2] ?? "/");
  }
  const queryAt = rest.indexOf("?");
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const clientShape = guessClientShape(path, headers);
  const host = headers.host;
  if (typeof host !== "string" || !hostIsRouter(host, hosts)) {
    return { ok: false, status: 400, code: "not_inference_local", message: `the Host header must be ${ROUTER_HOST}; the router reaches only this sandbox's route`, clientShape };
  }
  const endpoint = BY_PATH.get(path);
  if (endpoint === undefined) {
    const paths = ENDPOINTS.map((e) => `${e.method} ${e.path}`).join(", ");
    return { ok: false, status: 404, code: "unknown_endpoint", message: `${path.slice(0, 200)} is not an inference endpoint; the router serves ${paths}`, clientShape };
  }
  if (method !== endpoint.method) {
    return { ok: false, status: 405, code: "method_not_allowed", message: `${endpoint.path} takes ${endpoint.method}, not ${method}`, clientShape: endpoint.shape };
  }
  const kept = new URLSearchParams();
  if (queryAt !== -1) {
    for (const [k, v] of new URLSearchParams(rest.slice(queryAt + 1))) if (endpoint.query.includes(k)) kept.append(k, v);
  }
  const query = kept.toString();
  return { ok: true, endpoint, query: query === "" ? "" : `?${query}` };
}
