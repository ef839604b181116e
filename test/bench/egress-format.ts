// The egress bench's table: each row of measureEgress (egress-measure.ts) beside its direct
// baseline and its floors, as `npm run bench` prints it.

import type { EgressBenchResult, Memory } from "./egress-measure.js";

/** The result as the side-by-side table the bench prints. */
export function formatEgressBench(r: EgressBenchResult): string {
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  const cpu = (c: Record<string, number>) => Object.entries(c).map(([name, pct]) => `${name} ${pct.toFixed(0)}%`).join(", ");
  const mb = (m: Memory) => `${(m.rss / 2 ** 20).toFixed(0)} MB (anonymous ${(m.anon / 2 ** 20).toFixed(0)} MB)`;
  const perRequest = (pct: number | undefined, rps: number) => `${(((pct ?? Number.NaN) / 100) * (1e6 / rps)).toFixed(0)} µs`;
  const lines = [
    "Egress gateway benchmark (gateway in its own process; clients and upstreams on this host; baseline measured in the same run)",
    "floor = the same client through a minimal Node proxy (egress-floor.ts: no policy, no audit, no checks; for L7, TLS terminated with one fixed certificate), the best any proxy written for Node does here",
    r.bulk.some((b) => b.relayMBps !== undefined)
      ? "C relay = the tunnel's TLS bytes through socat, a raw relay in C with no decision at all: what relaying them costs here in any language"
      : "C relay: not measured (socat is not installed: apt-get install socat)",
    "",
  ];
  lines.push("  Latency, small GET on a kept-alive connection:");
  for (const row of r.latency) {
    const floor = `${row.floor === undefined ? "" : ` | floor added p50 ${ms(row.floor.p50 - row.direct.p50)}`}${row.relay === undefined ? "" : ` | C relay added p50 ${ms(row.relay.p50 - row.direct.p50)}`}`;
    lines.push(
      `    ${row.what.padEnd(28)} direct p50 ${ms(row.direct.p50)} p99 ${ms(row.direct.p99)} | proxied p50 ${ms(row.proxied.p50)} p99 ${ms(row.proxied.p99)} | added p50 ${ms(row.proxied.p50 - row.direct.p50)}${floor}`,
    );
  }
  lines.push("", "  Bulk download (median of interleaved rounds: direct, proxied, floor and C relay take turns, the first of each round rotating):");
  for (const row of r.bulk) {
    const floor = `${row.floorMBps === undefined ? "" : ` | floor ${row.floorMBps.toFixed(0)} MB/s, ${(row.floorMBps / row.directMBps).toFixed(2)}×`}${row.relayMBps === undefined ? "" : ` | C relay ${row.relayMBps.toFixed(0)} MB/s, ${(row.relayMBps / row.directMBps).toFixed(2)}×`}`;
    lines.push(`    ${row.what.padEnd(28)} direct ${row.directMBps.toFixed(0)} MB/s | proxied ${row.proxiedMBps.toFixed(0)} MB/s | ratio ${(row.proxiedMBps / row.directMBps).toFixed(2)}×${floor}`);
  }
  lines.push(
    "",
    `  Requests/s at ${r.concurrency.connections} concurrent connections: direct ${r.concurrency.directRps.toFixed(0)} | proxied ${r.concurrency.proxiedRps.toFixed(0)} | ratio ${(r.concurrency.proxiedRps / r.concurrency.directRps).toFixed(2)}× | floor ${r.concurrency.floorRps.toFixed(0)}, ${(r.concurrency.floorRps / r.concurrency.directRps).toFixed(2)}×`,
    `    (load client and stub upstream each in a process of its own, all runs; CPU of one core, direct: ${cpu(r.concurrency.cpu.direct)} | proxied: ${cpu(r.concurrency.cpu.proxied)} | floor: ${cpu(r.concurrency.cpu.floor)};`,
    `    gateway CPU per request ${perRequest(r.concurrency.cpu.proxied.gateway, r.concurrency.proxiedRps)} | floor proxy's ${perRequest(r.concurrency.cpu.floor.floor, r.concurrency.floorRps)})`,
    "",
    `  Policy change (command sent → effect seen by a client): setPolicy acknowledged p50 ${ms(r.policyChange.setPolicyP50Ms)}; revoked tunnel closed p50 ${ms(r.policyChange.revokeCloseP50Ms)} (max ${ms(r.policyChange.revokeCloseMaxMs)}); allowed → first CONNECT through p50 ${ms(r.policyChange.allowFirstConnectP50Ms)}`,
    `  Gateway process RSS: idle ${mb(r.rss.idle)}, under load ${mb(r.rss.load)} | floor: bare Node with net/http/https/tls and a server listening ${mb(r.rss.bareNode)}, the floor proxy under the same load ${mb(r.rss.floorLoad)}`,
  );
  return lines.join("\n");
}
