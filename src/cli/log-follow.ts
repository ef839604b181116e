// What `logs --inference --follow` prints on each poll: the lines it has not printed yet. Each
// poll reads the whole log again (every rotated file, up to a read limit), so a line is found
// by position, after the last one printed, while that one is still there. Once rotation (or the
// read limit) has dropped it, position says nothing; the lines written after it are then the
// ones with a later time (the router stamps each line when it writes it, so the log is in time
// order), minus those of the same millisecond already printed. Pure: the poll loop is in
// inference.ts.

export interface FollowCursor {
  /** The last line printed (its JSON); undefined before anything was. */
  lastKey: string | undefined;
  /** Its time ("" before anything was printed) and every line printed with that same time. */
  time: string;
  atTime: ReadonlySet<string>;
}

export interface Timed {
  time: string;
}

const keyOf = (e: Timed): string => JSON.stringify(e);

function advance<E extends Timed>(cursor: FollowCursor | undefined, fresh: readonly E[]): FollowCursor {
  const last = fresh.at(-1);
  if (last === undefined) return cursor ?? { lastKey: undefined, time: "", atTime: new Set() };
  const atTime = new Set(cursor?.time === last.time ? cursor.atTime : []);
  for (const e of fresh) if (e.time === last.time) atTime.add(keyOf(e));
  return { lastKey: keyOf(last), time: last.time, atTime };
}

/**
 * The lines of `events` (the log, oldest first) not printed yet, and the cursor after printing
 * them. Without a cursor (the first poll): the last `limit` lines.
 */
export function unprinted<E extends Timed>(events: readonly E[], cursor: FollowCursor | undefined, limit: number): { fresh: E[]; cursor: FollowCursor } {
  let fresh: E[];
  if (cursor === undefined) {
    fresh = events.slice(Math.max(0, events.length - limit));
  } else {
    const at = cursor.lastKey === undefined ? -1 : events.findLastIndex((e) => keyOf(e) === cursor.lastKey);
    // ISO times of one format compare as strings.
    fresh = at >= 0 ? events.slice(at + 1) : events.filter((e) => e.time > cursor.time || (e.time === cursor.time && !cursor.atTime.has(keyOf(e))));
  }
  return { fresh, cursor: advance(cursor, fresh) };
}
