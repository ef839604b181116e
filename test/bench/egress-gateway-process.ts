// The gateway in a process of its own, as the daemon runs it: the benchmark starts this so the
// proxy does not share a thread with the clients and upstreams it is measured against. Bundled
// by esbuild before it runs (egress-measure.ts), like the runtime the daemon runs, so its RSS is
// the gateway's and not that of Node's TypeScript stripper. Config comes as JSON in argv[2];
// commands arrive as JSON lines on stdin, answers go to stdout.

import net from "node:net";
import { createInterface } from "node:readline";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { createEgressGateway } from "../../blueprint/gateway/egress-gateway.js";
import { parsePolicy } from "../../blueprint/policy/load.js";

const config = JSON.parse(process.argv[2] ?? "{}") as { socketPath: string; stateDir: string; callerSecretFile: string; policyYaml: string; hostMap: Record<string, string>; upstreamCa: string };
// The daemon's credential source (an empty store, as on a host with no credentials added), so each
// request pays what the daemon's does to learn there is nothing to substitute.
const gateway = createEgressGateway({ hostMap: config.hostMap, upstreamCa: config.upstreamCa, approvalTimeoutMs: 50, credentials: new CredentialStore(config.stateDir) });
const { caCertPem } = await gateway.addSandbox("bench", {
  policy: parsePolicy(config.policyYaml).policy,
  stateDir: config.stateDir,
  callerSecretFile: config.callerSecretFile,
});
const server = net.createServer((socket) => gateway.handle("bench", socket));
await new Promise<void>((resolve) => server.listen(config.socketPath, resolve));
const say = (message: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(message)}\n`);
say({ ready: true, caCertPem });

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { id: number; op: "setPolicy" | "stop"; yaml?: string };
  if (command.op === "setPolicy") {
    const started = performance.now();
    gateway.setPolicy("bench", parsePolicy(command.yaml ?? "").policy);
    say({ id: command.id, ms: performance.now() - started });
  } else {
    await gateway.close();
    server.close();
    say({ id: command.id, stopped: true });
    break;
  }
}
process.exit(0);
