/**
 * Polls `get` until it gives a value (not undefined), every 250 ms, for at most `timeoutMs`. A
 * probe that throws counts as "not yet" (a socket not there yet, an engine restarting).
 */
export async function until<T>(what: string, timeoutMs: number, get: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
