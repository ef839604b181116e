// Mounts the router on a plain HTTP server: for tests and benchmarks, which need a port to point
// clients at. In the daemon the egress gateway calls `router.handle` itself.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { InferenceRouter } from "./router.js";

export interface ServedRouter {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** `sandbox` names the caller: one fixed sandbox, or picked per request. */
export async function serveInferenceRouter(router: InferenceRouter, sandbox: string | ((req: http.IncomingMessage) => string), host = "127.0.0.1"): Promise<ServedRouter> {
  const server = http.createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    void router.handle(typeof sandbox === "string" ? sandbox : sandbox(req), req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
