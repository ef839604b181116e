// How onboarding shows its steps: a clack spinner per step on a terminal, one plain line per
// step on stderr otherwise (stdout keeps the summary), nothing at all with --json (stdout is the
// one JSON document).
import * as p from "@clack/prompts";
import { visible } from "../../blueprint/state/terminal-text.js";
import type { StepOutcome } from "./types.js";

export interface Reporter {
  begin(title: string): void;
  progress(message: string): void;
  end(title: string, outcome: StepOutcome): void;
  fail(title: string, message: string): void;
}

const MARK: Record<StepOutcome["status"], string> = { done: "done", unchanged: "unchanged", ok: "ok", warn: "warning", skipped: "skipped" };

export function clackReporter(): Reporter {
  let spin: ReturnType<typeof p.spinner> | undefined;
  return {
    begin(title) {
      spin = p.spinner();
      spin.start(title);
    },
    progress(message) {
      spin?.message(visible(message));
    },
    end(title, o) {
      spin?.stop(`${title}: ${visible(o.detail)} (${MARK[o.status]})`);
    },
    fail(title, message) {
      spin?.error(`${title}: ${visible(message)}`);
    },
  };
}

export function lineReporter(): Reporter {
  let current = "";
  return {
    begin(title) {
      current = title;
    },
    progress(message) {
      process.stderr.write(`  [${current}] ${visible(message)}\n`);
    },
    end(title, o) {
      process.stderr.write(`  ${o.status === "warn" ? "!" : "✓"} ${title}: ${visible(o.detail)} (${MARK[o.status]})\n`);
    },
    fail(title, message) {
      process.stderr.write(`  ✗ ${title}: ${visible(message)}\n`);
    },
  };
}

export const silentReporter: Reporter = { begin() {}, progress() {}, end() {}, fail() {} };
