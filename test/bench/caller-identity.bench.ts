// `npm run bench` (like sandbox-start.bench.ts): what caller
// identification costs per new connection, from inside a real sandbox. A node process inside opens
// ROUNDS connections to the forwarder one after another, each sending one request that the test
// daemon (refuse-all) answers with a 403, and reports the first connection (its executable is
// hashed then) and the p50/p90 of the rest. No assertion on time: it prints.
import { test } from "vitest";
import { createSandboxHarness } from "../helpers/docker-sandbox.js";

const ROUNDS = 200;

const LOOP = `
const net = require("net");
const one = () => new Promise((resolve, reject) => {
  const t = process.hrtime.bigint();
  const c = net.connect(3128, "127.0.0.1", () => c.write("GET http://bench.test/ HTTP/1.1\\r\\nHost: bench.test\\r\\nConnection: close\\r\\n\\r\\n"));
  c.on("data", () => {});
  c.on("end", () => resolve(Number(process.hrtime.bigint() - t) / 1e6));
  c.on("error", reject);
});
(async () => {
  const ms = [];
  for (let i = 0; i < ${ROUNDS}; i++) ms.push(await one());
  const first = ms.shift();
  ms.sort((a, b) => a - b);
  const at = (q) => ms[Math.floor(ms.length * q)];
  console.log(JSON.stringify({ first, p50: at(0.5), p90: at(0.9), n: ms.length }));
})();`;

test("new-connection latency through the forwarder", async () => {
  const h = await createSandboxHarness();
  try {
    const { name } = await h.create("bench-ident");
    // Warm-up run: node's hash is computed once per forwarder; the second run shows the steady state.
    for (const run of ["cold", "warm"]) {
      const r = await h.exec(name, ["node", "-e", LOOP]);
      console.log(`caller identification, ${run} forwarder: ${r.stdout.trim()}`);
    }
    // The /proc scan alone (as the workload would see it: its own processes), per call.
    const scan = await h.exec(name, [
      "node",
      "--input-type=module",
      "-e",
      `import { scanHolders } from "/opt/nemoclaw/supervisor/identify.js";
       const t = process.hrtime.bigint();
       for (let i = 0; i < 500; i++) scanHolders("1");
       console.log(JSON.stringify({ scanMs: Number(process.hrtime.bigint() - t) / 1e6 / 500 }));`,
    ]);
    console.log(`caller identification, /proc scan: ${scan.stdout.trim()}${scan.stderr.trim()}`);
  } finally {
    await h.dispose();
  }
}, 600_000);
