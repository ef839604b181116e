// What `logs --inference --follow` and `logs --egress --follow` print on each poll: the lines
// not printed yet. Each poll reads the whole log again (every rotated file, up to a read limit).
// While the log only grew, the new lines are those after the count printed (exact even when two
// lines read the same); otherwise by position, after the last line printed, if it is still there.
// Once rotation (or the read limit) has dropped it, position says nothing (and a count of lines
// stops growing once the log is full); the lines written after it are then those with a later
// time (both logs stamp a line when they write it, so each log is in time order), minus those of
// the same millisecond already printed. Pure: the poll loops are in inference.ts and egress.ts.

export interface FollowCursor {
  /** The last line printed (its JSON); undefined before anything was. */
  lastKey: string | undefined;
  /** How many lines the log had when it was printed (the last one printed was the last of them). */
  count: number;
  /** Its time ("" before anything was printed) and every line printed with that same time. */
  time: string;
  atTime: ReadonlySet<string>;
}

/** A line's time as an ISO string (ISO times of one format compare as strings). */
export type TimeOf<E> = (line: E) => string;

const keyOf = (e: unknown): string => JSON.stringify(e);

function advance<E>(cursor: FollowCursor | undefined, fresh: readonly E[], count: number, timeOf: TimeOf<E>): FollowCursor {
  const last = fresh.at(-1);
  if (last === undefined) return { ...(cursor ?? { lastKey: undefined, time: "", atTime: new Set() }), count };
  const time = timeOf(last);
  const atTime = new Set(cursor?.time === time ? cursor.atTime : []);
  for (const e of fresh) if (timeOf(e) === time) atTime.add(keyOf(e));
  return { lastKey: keyOf(last), count, time, atTime };
}

/**
 * The lines of `events` (the log, oldest first) not printed yet, and the cursor after printing
 * them. Without a cursor (the first poll): the last `limit` lines.
 */
export function unprinted<E>(events: readonly E[], cursor: FollowCursor | undefined, limit: number, timeOf: TimeOf<E>): { fresh: E[]; cursor: FollowCursor } {
  let fresh: E[];
  if (cursor === undefined) {
    fresh = events.slice(Math.max(0, events.length - limit));
  } else {
    const grew = cursor.count > 0 && cursor.count <= events.length && keyOf(events[cursor.count - 1]) === cursor.lastKey;
    const at = grew ? cursor.count - 1 : cursor.lastKey === undefined ? -1 : events.findLastIndex((e) => keyOf(e) === cursor.lastKey);
    fresh =
      at >= 0
        ? events.slice(at + 1)
        : events.filter((e) => {
            const t = timeOf(e);
            return t > cursor.time || (t === cursor.time && !cursor.atTime.has(keyOf(e)));
          });
  }
  // Fresh lines always run to the end of the log, so the last one printed is its last line.
  return { fresh, cursor: advance(cursor, fresh, events.length, timeOf) };
}

/** The time of an egress log line: rendered (`<ISO time> ALLOW …`) or OCSF JSON (`"time": <epoch ms>`). */
export function egressLineTime(line: string): string {
  if (!line.startsWith("{")) {
    const space = line.indexOf(" ");
    return space === -1 ? line : line.slice(0, space);
  }
  try {
    return new Date((JSON.parse(line) as { time: number }).time).toISOString();
  } catch {
    return "";
  }
}
