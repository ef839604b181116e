import { visibleJson } from "../../blueprint/state/terminal-text.js";
import { UserError } from "../errors.js";

/** House style: a heading, a blank line, then two-space indented `Key: value` fields. */
export function renderFields(heading: string, fields: ReadonlyArray<readonly [string, string]>): string {
  const lines = [heading, ""];
  for (const [key, value] of fields) lines.push(`  ${key}: ${value}`);
  return lines.join("\n");
}

/** JSON on stdout; what JSON.stringify leaves raw that a terminal would act on is escaped. */
export function printJson(value: unknown): void {
  process.stdout.write(`${visibleJson(JSON.stringify(value, null, 2))}\n`);
}

/** Print an error for a person (never a stack trace for a UserError) and set a failing exit code. */
export function reportError(e: unknown, json: boolean): void {
  process.exitCode = 1;
  if (e instanceof UserError) {
    if (json) {
      printJson({ ok: false, error: { message: e.message, hint: e.hint, details: e.details } });
      return;
    }
    const lines = [`Error: ${e.message}`];
    for (const d of e.details) lines.push(`  ${d}`);
    if (e.hint) lines.push("", `  Next: ${e.hint}`);
    process.stderr.write(`${lines.join("\n")}\n`);
    return;
  }
  const message = e instanceof Error ? e.message : String(e);
  if (json) printJson({ ok: false, error: { message: `internal error: ${message}` } });
  else process.stderr.write(`Error: internal error in nemoclaw: ${message}\n  Next: this is a bug; please report it.\n`);
}

/** Wrap a command action: errors become a readable message and exit code 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const opts = args.find((a): a is { json?: boolean } => typeof a === "object" && a !== null && "json" in a);
    try {
      await fn(...args);
    } catch (e) {
      reportError(e, Boolean(opts?.json));
    }
  };
}
