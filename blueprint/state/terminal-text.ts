// Text that came from inside a sandbox (executable paths, host names, request paths, reasons
// quoting them) is shown on the operator's terminal by `approvals` and `logs --egress`. A file
// name is any bytes but `/` and NUL, so it can carry ESC/CSI/OSC sequences (retitle the
// window, move the cursor, rewrite earlier lines, hyperlinks), C1 controls, newlines that forge
// a line, or bidi overrides that reorder what is read. Everything such text contains that a
// terminal would act on instead of print becomes a visible escape.

/** Controls (C0, DEL, C1), format characters (bidi, zero-width), line/paragraph separators, lone surrogates. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

function escapeOf(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with everything a terminal would interpret shown as `\xNN` / `\uNNNN`, and `\` itself
 * doubled so an escape cannot be faked by a file name that spells one. Apply once, just before
 * printing.
 */
export function visible(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(UNSAFE, escapeOf);
}

/**
 * Serialised JSON made safe to print: JSON.stringify already escapes C0 controls; this escapes
 * what it leaves raw (DEL, C1, bidi and other format characters, U+2028/2029) as `\uNNNN`, so
 * the output parses to the same value.
 */
export function visibleJson(json: string): string {
  // A raw newline in serialised JSON is indentation (JSON.stringify escapes those in strings).
  return json.replace(UNSAFE, (ch) => (ch === "\n" ? ch : `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`));
}
