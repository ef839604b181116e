// What `logs --inference --follow` and `logs --egress --follow` print on each poll
// (src/cli/log-follow.ts): the last lines first, then only lines not printed yet, also once
// rotation has dropped the last line printed.
import { describe, expect, it } from "vitest";
import { egressLineTime, unprinted, type FollowCursor } from "../../../src/cli/log-follow.js";

const at = (second: number, ms = 0): string => new Date(Date.UTC(2026, 0, 1, 0, 0, second, ms)).toISOString();
const line = (id: string, time: string) => ({ time, id });

/** Runs polls over successive log contents; returns the ids printed by each. */
function polls(contents: Array<Array<ReturnType<typeof line>>>, limit = 200): string[][] {
  let cursor: FollowCursor | undefined;
  return contents.map((events) => {
    const next = unprinted(events, cursor, limit, (e) => e.time);
    cursor = next.cursor;
    return next.fresh.map((e) => e.id);
  });
}

describe("logs --inference --follow: what each poll prints", () => {
  it("first the last `limit` lines, then only the lines appended since", () => {
    const a = line("a", at(1));
    const b = line("b", at(2));
    const c = line("c", at(3));
    const d = line("d", at(4));
    expect(polls([[a, b, c], [a, b, c], [a, b, c, d]], 2)).toEqual([["b", "c"], [], ["d"]]);
  });

  it("an empty log, then lines: every line is new", () => {
    expect(polls([[], [line("a", at(1)), line("b", at(2))]])).toEqual([[], ["a", "b"]]);
  });

  it("after rotation dropped the last line printed: only the newer lines, not the whole log again", () => {
    const old = Array.from({ length: 5 }, (_, i) => line(`old${i}`, at(i)));
    // The read window after rotation starts at old4's successor: old0…old4 are gone.
    const after = [line("old5", at(5)), line("old6", at(6)), line("new1", at(7)), line("new2", at(8))];
    const printed = polls([[...old, line("old5", at(5)), line("old6", at(6))], after]);
    expect(printed[1]).toEqual(["new1", "new2"]);
  });

  it("the same millisecond as the last line printed: those printed are not repeated, the others are printed", () => {
    const t = at(9, 123);
    const first = [line("a", at(1)), line("b", t), line("c", t)];
    // c is gone (rotated out, or a torn line skipped), b is still there, d was written in the same ms.
    const second = [line("b", t), line("d", t), line("e", at(10))];
    expect(polls([first, second])).toEqual([["a", "b", "c"], ["d", "e"]]);
  });

  it("keeps following by position while the last line printed is there, even when times repeat", () => {
    const t = at(3);
    const a = line("a", t);
    const b = line("b", t);
    expect(polls([[a], [a, b], [a, b, line("c", t)]])).toEqual([["a"], ["b"], ["c"]]);
  });
});

describe("logs --egress --follow: rendered or JSON lines", () => {
  const rendered = (second: number, what: string) => `${at(second)} DENY /usr/bin/curl(64) -> ${what}:443 [policy:- rule:-] [reason:no rule]`;
  const poll = (contents: string[][]): string[][] => {
    let cursor: FollowCursor | undefined;
    return contents.map((lines) => {
      const next = unprinted(lines, cursor, 200, egressLineTime);
      cursor = next.cursor;
      return next.fresh;
    });
  };

  it("reads the time of a rendered line and of an OCSF JSON line", () => {
    expect(egressLineTime(rendered(4, "a.test"))).toBe(at(4));
    expect(egressLineTime(JSON.stringify({ time: Date.parse(at(5, 7)), activity_id: 1 }))).toBe(at(5, 7));
    expect(egressLineTime("{torn")).toBe("");
  });

  it("two identical lines (a retry denied twice in one millisecond): the second is printed too", () => {
    const x = rendered(1, "evil.test");
    expect(poll([[x], [x, x], [x, x, x]])).toEqual([[x], [x], [x]]);
  });

  it("a full log (as many lines after rotation as before): the new lines are printed, not nothing", () => {
    // Counting lines printed nothing here: the log's length stays the same once it is full.
    const full = [1, 2, 3, 4].map((s) => rendered(s, `h${s}.test`));
    const rotated = [3, 4, 5, 6].map((s) => rendered(s, `h${s}.test`));
    expect(poll([full, rotated])).toEqual([full, rotated.slice(2)]);
    const gone = [5, 6, 7, 8].map((s) => rendered(s, `h${s}.test`));
    expect(poll([full, gone])[1]).toEqual(gone);
  });
});
