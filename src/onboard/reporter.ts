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
  /** Before a question: a spinner must not keep drawing (or own Ctrl-C) while a prompt waits. */
  pause(): void;
}

const MARK: Record<StepOutcome["status"], string> = { done: "done", unchanged: "unchanged", ok: "ok", warn: "warning", skipped: "skipped" };

export function clackReporter(): Reporter {
  let spin: ReturnType<typeof p.spinner> | undefined;
  let title = "";
  // Ctrl-C while a spinner runs: clack ends the process with exit(0); it was an interruption.
  process.on("exit", () => {
    if (spin) process.exitCode = 130;
  });
  const spinning = (message: string) => {
    if (spin) spin.message(message);
    else {
      spin = p.spinner({ cancelMessage: "Interrupted: run `openclaw nemoclaw onboard` again to resume" });
      spin.start(message);
    }
  };
  const settle = (finish: (s: ReturnType<typeof p.spinner>) => void, text: string, log: (t: string) => void) => {
    if (spin) finish(spin);
    else log(text);
    spin = undefined;
  };
  return {
    begin(t) {
      title = t;
      spinning(t);
    },
    progress(message) {
      spinning(visible(message));
    },
    end(t, o) {
      const text = `${t}: ${visible(o.detail)} (${MARK[o.status]})`;
      settle((s) => s.stop(text), text, (x) => p.log.success(x));
    },
    fail(t, message) {
      const text = `${t}: ${visible(message)}`;
      settle((s) => s.error(text), text, (x) => p.log.error(x));
    },
    pause() {
      if (spin) spin.stop(title);
      spin = undefined;
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
    pause() {},
  };
}

export const silentReporter: Reporter = { begin() {}, progress() {}, end() {}, fail() {}, pause() {} };
