// The control API's router: exact method + path routes, JSON in and out, bodies validated with
// zod before a handler sees them. Small on purpose; the API is host-only (a 0600 Unix socket)
// and has a handful of routes.
import type http from "node:http";
import { z } from "zod";

export type RouteHandler<B> = (body: B, request: http.IncomingMessage) => unknown;

/** A failure a route reports as an HTTP status with a JSON `{error, hint}` body. */
export class RouteError extends Error {
  readonly status: number;
  readonly hint: string | undefined;
  constructor(status: number, message: string, hint?: string) {
    super(message);
    this.name = "RouteError";
    this.status = status;
    this.hint = hint;
  }
}

interface Route {
  schema: z.ZodType;
  handler: RouteHandler<unknown>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export class ControlRouter {
  readonly #routes = new Map<string, Map<string, Route>>();

  /** Adds a route; a body schema is required for anything but GET (GET bodies are ignored). */
  addRoute<S extends z.ZodType>(method: string, path: string, handler: RouteHandler<z.infer<S>>, schema?: S): void {
    const verb = method.toUpperCase();
    if (!path.startsWith("/")) throw new Error(`route path must start with /: ${path}`);
    const byMethod = this.#routes.get(path) ?? new Map<string, Route>();
    if (byMethod.has(verb)) throw new Error(`route ${verb} ${path} is already defined`);
    byMethod.set(verb, { schema: schema ?? z.unknown(), handler: handler as RouteHandler<unknown> });
    this.#routes.set(path, byMethod);
  }

  /** The request listener for `http.createServer`. */
  readonly handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    void this.#dispatch(request).then(
      ({ status, body }) => reply(response, status, body),
      (e: unknown) => {
        if (e instanceof RouteError) reply(response, e.status, { error: e.message, ...(e.hint ? { hint: e.hint } : {}) });
        else reply(response, 500, { error: `internal error: ${(e as Error).message}` });
      },
    );
  };

  async #dispatch(request: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = new URL(request.url ?? "/", "http://control").pathname;
    const byMethod = this.#routes.get(path);
    if (!byMethod) throw new RouteError(404, `no route ${path}`, `routes: ${[...this.#routes.keys()].sort().join(", ")}`);
    const route = byMethod.get(request.method ?? "GET");
    if (!route) throw new RouteError(405, `${request.method} not allowed on ${path}`, `allowed: ${[...byMethod.keys()].join(", ")}`);
    let input: unknown;
    if (request.method !== "GET" && request.method !== "HEAD") {
      const text = await readBody(request);
      try {
        input = text === "" ? {} : JSON.parse(text);
      } catch {
        throw new RouteError(400, "request body is not JSON");
      }
    }
    const parsed = route.schema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RouteError(400, `invalid request body: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
    }
    return { status: 200, body: (await route.handler(parsed.data, request)) ?? { ok: true } };
  }
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RouteError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function reply(response: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
