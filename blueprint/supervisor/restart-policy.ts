// When the supervisor starts a failed workload again. OpenClaw's gateway can fail its own start-up
// on a loaded machine (its state lease heartbeat must come up within a fixed 5 s, and on one busy
// CPU it sometimes does not); a service manager would start it again, and so does the supervisor,
// for gateway sandboxes only. A workload that keeps failing is given up on, so the container
// stops and says why instead of looping.

export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more failure in that window ends the sandbox. */
  attempts: number;
  windowMs: number;
}

/** The gateway's: five restarts within ten minutes, 1 s, 2 s, 4 s, … apart (30 s at most). */
export const GATEWAY_RESTART: RestartPolicy = { attempts: 5, windowMs: 10 * 60_000 };

const MAX_DELAY_MS = 30_000;

/**
 * The delay before the next start, given the times of every failure so far (the latest
 * included), or undefined to give up. Exits the supervisor caused (a forwarded stop signal) are
 * not failures and never reach this.
 */
export function restartDelay(policy: RestartPolicy, failures: readonly number[], now: number): number | undefined {
  const recent = failures.filter((t) => now - t < policy.windowMs).length;
  if (recent === 0 || recent > policy.attempts) return undefined;
  return Math.min(MAX_DELAY_MS, 1000 * 2 ** (recent - 1));
}

export function parseRestartPolicy(raw: unknown): RestartPolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = raw as Partial<RestartPolicy>;
  if (!Number.isInteger(r.attempts) || (r.attempts as number) < 0 || !Number.isInteger(r.windowMs) || (r.windowMs as number) < 1) {
    throw new Error("config.restart must give attempts (≥ 0) and windowMs (≥ 1) as integers");
  }
  return { attempts: r.attempts as number, windowMs: r.windowMs as number };
}
