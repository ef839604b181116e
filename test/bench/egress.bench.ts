// `npm run bench` (vitest bench): the egress gateway's numbers side by side with a direct
// baseline measured in the same run (printed as a table), then vitest's own comparison of the
// hot path, direct vs through the gateway.

import http from "node:http";
import { test } from "vitest";
import { CURL, policy, proxyAgent, startGateway, startHttpUpstream } from "../helpers/gateway-harness.js";
import { formatEgressBench } from "./egress-format.js";
import { measureEgress } from "./egress-measure.js";

function get(agent: http.Agent, options: http.RequestOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ agent, ...options }, (res) => {
        res.resume();
        res.on("end", resolve);
      })
      .on("error", reject);
  });
}

test("egress gateway: latency, throughput, concurrency, policy change, memory", async ({ bench }) => {
  console.log(`\n${formatEgressBench(await measureEgress())}\n`);

  const upstream = await startHttpUpstream();
  const gw = await startGateway(
    policy(`version: 1\nnetwork_policies:\n  p:\n    endpoints: [{ host: p.example.test, port: ${upstream.port}, allowed_ips: [127.0.0.1/32] }]\n    binaries: [{ path: /usr/bin/curl }]\n`),
    { hostMap: { "p.example.test": "127.0.0.1" } },
  );
  const direct = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const proxied = proxyAgent(gw.socketPath, CURL);
  const host = `p.example.test:${upstream.port}`;
  try {
    await bench.compare(
      bench("direct HTTP GET", async () => {
        await get(direct, { host: "127.0.0.1", port: upstream.port, path: "/b" });
        upstream.seen.length = 0;
      }),
      bench("proxied HTTP GET (policy + audit)", async () => {
        await get(proxied, { path: `http://${host}/b`, headers: { host } });
        upstream.seen.length = 0;
      }),
    );
  } finally {
    direct.destroy();
    proxied.destroy();
    await gw.close();
    await upstream.close();
  }
}, 600_000);
