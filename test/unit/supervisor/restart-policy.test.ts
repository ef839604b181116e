import { describe, expect, it } from "vitest";
import { GATEWAY_RESTART, parseRestartPolicy, restartDelay } from "../../../blueprint/supervisor/restart-policy.js";
import { parseConfig } from "../../../blueprint/supervisor/supervisor.js";

const MIN = 60_000;

describe("restart policy", () => {
  it("backs off 1 s, 2 s, 4 s, … and gives up after the allowed restarts within the window", () => {
    const now = 100 * MIN;
    const failures: number[] = [];
    const delays: Array<number | undefined> = [];
    for (let i = 0; i < GATEWAY_RESTART.attempts + 1; i++) {
      failures.push(now);
      delays.push(restartDelay(GATEWAY_RESTART, failures, now));
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, undefined]);
  });

  it("forgets failures older than the window", () => {
    const now = 100 * MIN;
    const old = Array.from({ length: 10 }, () => now - GATEWAY_RESTART.windowMs - 1);
    expect(restartDelay(GATEWAY_RESTART, [...old, now], now)).toBe(1000);
  });

  it("never waits more than 30 s", () => {
    const policy = { attempts: 20, windowMs: 60 * MIN };
    expect(restartDelay(policy, Array.from({ length: 12 }, () => 0), 1)).toBe(30_000);
  });

  it("is part of the supervisor's configuration, checked like the rest", () => {
    const base = {
      launcher: ["/usr/local/lib/nemoclaw/landlock-exec", "--", "sleep", "1"],
      env: {},
      forwarder: { host: "127.0.0.1", port: 3128, socket: "/run/nemoclaw/proxy.sock", program: "/usr/local/lib/nemoclaw/egress-forwarder" },
      caller: { uid: 1000, gid: 1000 },
      secret: "ab".repeat(32),
    };
    expect(parseConfig(JSON.stringify(base)).restart).toBeUndefined();
    expect(parseConfig(JSON.stringify({ ...base, restart: GATEWAY_RESTART })).restart).toEqual(GATEWAY_RESTART);
    expect(() => parseRestartPolicy({ attempts: -1, windowMs: 5 })).toThrow(/config\.restart must give attempts/);
    expect(() => parseConfig(JSON.stringify({ ...base, restart: { attempts: "5" } }))).toThrow(/config\.restart/);
  });
});
