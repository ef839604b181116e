// Reads policy and preset YAML into typed values, keeping source positions so every problem
// names file:line:column, the field and what to do about it. Parse once here, at the edge;
// everything past this point works on validated `Policy` / `Preset` values.

import { readFile } from "node:fs/promises";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node, Pair } from "yaml";
import type { z } from "zod";
import { PolicySchema, PresetSchema } from "./schema.js";
import { policyWarnings, UNENFORCED_FIELDS } from "./warnings.js";
import type { Policy, Preset } from "./schema.js";
import type { PathIssue } from "./warnings.js";

/** One located problem (or warning) in a policy file. Lines and columns start at 1. */
export interface PolicyIssue {
  file: string;
  line: number;
  column: number;
  /** Field path such as `network_policies.github.endpoints[0].host`; `(document)` for the whole file. */
  field: string;
  message: string;
}

export interface Loaded<T> {
  policy: T;
  warnings: PolicyIssue[];
}

export interface LoadOptions {
  /** Name used in messages; defaults to `<policy>`. */
  file?: string;
}

/** Formats one issue as `file:line:column field: message`. */
export function formatIssue(issue: PolicyIssue): string {
  return `${issue.file}:${issue.line}:${issue.column} ${issue.field}: ${issue.message}`;
}

/** A policy file that cannot be used, with every problem found in it. */
export class PolicyError extends Error {
  readonly issues: PolicyIssue[];

  constructor(issues: PolicyIssue[]) {
    const first = issues[0];
    const summary = first === undefined ? "invalid policy" : formatIssue(first);
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`${summary}${more}`);
    this.name = "PolicyError";
    this.issues = issues;
  }

  /** Every issue, one per line. */
  format(): string {
    return this.issues.map(formatIssue).join("\n");
  }
}

// ── Entry points ───────────────────────────────────────────────────────────────────────────

/** Parses and validates a policy document. Throws PolicyError. */
export function parsePolicy(text: string, options: LoadOptions = {}): Loaded<Policy> {
  return parseWith(PolicySchema, "policy", text, options.file ?? "<policy>");
}

/** Parses and validates a preset document. Throws PolicyError. */
export function parsePreset(text: string, options: LoadOptions = {}): Loaded<Preset> {
  return parseWith(PresetSchema, "preset", text, options.file ?? "<preset>");
}

/** Reads and validates a policy file. Throws PolicyError (also for a file that cannot be read). */
export async function loadPolicyFile(path: string): Promise<Loaded<Policy>> {
  return parsePolicy(await readText(path), { file: path });
}

/** Reads and validates a preset file. Throws PolicyError. */
export async function loadPresetFile(path: string): Promise<Loaded<Preset>> {
  return parsePreset(await readText(path), { file: path });
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    const reason = code === "ENOENT" ? "file not found; check the path" : `cannot read the file (${code})`;
    throw new PolicyError([{ file: path, line: 1, column: 1, field: "(document)", message: reason }]);
  }
}

// ── Parsing ────────────────────────────────────────────────────────────────────────────────

const MAX_POLICY_BYTES = 4 * 1024 * 1024;

function parseWith<S extends z.ZodType>(schema: S, kind: "policy" | "preset", text: string, file: string): Loaded<z.output<S>> {
  if (Buffer.byteLength(text, "utf8") > MAX_POLICY_BYTES) {
    throw new PolicyError([{ file, line: 1, column: 1, field: "(document)", message: "policy is larger than 4 MiB" }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const locate = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    throw new PolicyError(
      yamlProblems.map((problem) => {
        const offset = problem.pos[0];
        const path = pathAtOffset(doc, offset);
        return { file, ...locate(offset), field: formatPath(path), message: yamlMessage(problem.code, problem.message, text, offset) };
      }),
    );
  }
  if (doc.contents === null) {
    throw new PolicyError([{ file, line: 1, column: 1, field: "(document)", message: kind === "policy" ? "the file is empty; a policy starts with `version: 1`" : "the file is empty; a preset needs `description:` and `network_policies:`" }]);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new PolicyError([{ file, line: 1, column: 1, field: "(document)", message: `cannot read the YAML: ${(error as Error).message}` }]);
  }

  const toIssue = (problem: PathIssue, pointAtKey = false): PolicyIssue => ({
    file,
    ...locate(offsetOf(doc, problem.path, pointAtKey)),
    field: formatPath(problem.path),
    message: problem.message,
  });

  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => describeIssue(issue, kind === "preset"));
    throw new PolicyError(sortIssues(problems.map((p) => toIssue(p, p.atKey))));
  }
  const value = result.data as Policy | Preset;
  const warnings = sortIssues(policyWarnings(value).map((w) => toIssue(w)));
  return { policy: result.data, warnings };
}

function sortIssues(issues: PolicyIssue[]): PolicyIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

function yamlMessage(code: string, raw: string, text: string, offset: number): string {
  if (code === "DUPLICATE_KEY") {
    const key = /^["']?([^"':\n]+)/.exec(text.slice(offset))?.[1]?.trim() ?? "this key";
    return `duplicate key "${key}"; each key may appear once in a mapping — merge the two entries`;
  }
  if (code === "MULTIPLE_DOCS") return "more than one YAML document; a policy file holds exactly one (remove the `---`)";
  if (code === "TAB_AS_INDENT") return "tab used for indentation; YAML indents with spaces";
  return `YAML syntax error: ${raw.replace(/\s+/g, " ").trim()}; fix the syntax at this position`;
}

// ── zod issues → readable, located problems ────────────────────────────────────────────────

interface DescribedIssue extends PathIssue {
  /** Point at the key rather than its value (unknown fields). */
  atKey?: boolean;
}

const KNOWN_KEYS: string[] = [
  ...UNENFORCED_FIELDS.policy, ...UNENFORCED_FIELDS.endpoint, ...UNENFORCED_FIELDS.matcher,
  "version", "filesystem_policy", "landlock", "process", "network_policies", "network_middlewares", "egress_mode",
  "include_workdir", "read_only", "read_write", "compatibility", "run_as_user", "run_as_group",
  "name", "endpoints", "binaries", "host", "port", "ports", "path", "protocol", "tls", "enforcement",
  "access", "rules", "deny_rules", "allowed_ips", "allow", "method", "query", "description", "preset",
];

function describeIssue(issue: z.core.$ZodIssue, isPreset: boolean): DescribedIssue[] {
  const path = issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment));
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: unknownFieldMessage(key, isPreset),
      }));
    case "invalid_type": {
      if (issue.expected === "never") return [{ path, atKey: true, message: issue.message }];
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) {
        const field = path[path.length - 1];
        return [{ path: path.slice(0, -1), message: `missing required field "${String(field)}"${requiredHint(String(field))}` }];
      }
      const hint = typeHint(path, input);
      return [{ path, message: `expected ${describeExpected(issue.expected)}, got ${describeValue(input)}${hint}` }];
    }
    case "invalid_value": {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) {
        const field = String(path[path.length - 1]);
        return [{ path: path.slice(0, -1), message: `missing required field "${field}"${requiredHint(field)}` }];
      }
      if (issue.values.length === 1 && issue.message && !issue.message.startsWith("Invalid")) {
        return [{ path, message: `${issue.message} (got ${describeValue(input)})` }];
      }
      const options = issue.values.map((v) => String(v)).join(", ");
      return [{ path, message: `${describeValue(input)} is not allowed here; use one of: ${options}` }];
    }
    case "invalid_key":
      return [{ path, atKey: true, message: issue.issues[0]?.message ?? "invalid name" }];
    case "invalid_union": {
      const input = (issue as { input?: unknown }).input;
      const expected = path.includes("query") ? "a glob or { any: [globs] }" : "text or a number";
      return [{ path, message: `expected ${expected}, got ${describeValue(input)}` }];
    }
    case "too_small":
      if (issue.message.startsWith("Too small")) {
        const what = issue.origin === "array" ? "list is empty; add an entry" : "value is empty; fill it in";
        return [{ path, message: `${what} or remove the field` }];
      }
      return [{ path, message: issue.message }];
    case "too_big":
    case "custom":
    case "invalid_format":
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}

function unknownFieldMessage(key: string, isPreset: boolean): string {
  const suggestion = closest(key, KNOWN_KEYS);
  const did = suggestion === undefined ? "" : `; did you mean "${suggestion}"?`;
  const presetNote = isPreset && suggestion === undefined ? " (presets hold description and network_policies)" : "";
  return `unknown field "${key}"${did}${presetNote}${suggestion === undefined ? " — remove it" : ""}`;
}

function requiredHint(field: string): string {
  if (field === "version") return "; add `version: 1` at the top";
  if (field === "network_policies") return "; a preset adds network policies under `network_policies:`";
  if (field === "allow") return '; write `- allow: { method: GET, path: "/**" }`';
  if (field === "path") return "; add `path: /usr/bin/…`";
  return "";
}

function typeHint(path: Array<string | number>, input: unknown): string {
  const parent = path[path.length - 2];
  const last = path[path.length - 1];
  if (parent === "binaries" && typeof input === "string") return `; write \`- { path: ${input} }\``;
  if ((last === "port" || parent === "ports") && typeof input === "string") return "; write the port as a number, e.g. 443";
  if (last === "ports" && typeof input === "number") return `; write \`port: ${input}\` or \`ports: [${input}]\``;
  if ((last === "read_only" || last === "read_write" || last === "allowed_ips") && typeof input === "string") {
    return `; write a list: \`${String(last)}: [${input}]\``;
  }
  return "";
}

function describeExpected(expected: string): string {
  switch (expected) {
    case "array": return "a list";
    case "object": return "a mapping of fields";
    case "record": return "a mapping of fields";
    case "string": return "text";
    case "number": return "a number";
    case "boolean": return "true or false";
    default: return expected;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `"${value}"`;
  return String(value);
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ── Paths ↔ positions ──────────────────────────────────────────────────────────────────────

/** `network_policies.github.endpoints[0].host`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return "(document)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function childOf(node: unknown, segment: string | number): { pair?: Pair; node: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    return pair === undefined ? undefined : { pair, node: pair.value };
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = node.items[segment];
    return item === undefined ? undefined : { node: item };
  }
  return undefined;
}

/** Source offset for a field path: the deepest existing node on it (its key when asked). */
function offsetOf(doc: Document, path: ReadonlyArray<string | number>, pointAtKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (segment === undefined) break;
    const child = childOf(node, segment);
    if (child === undefined) break;
    const isLast = i === path.length - 1;
    const keyOffset = child.pair === undefined ? undefined : rangeStart(child.pair.key);
    const valueOffset = rangeStart(child.node);
    offset = (isLast && pointAtKey ? keyOffset : valueOffset ?? keyOffset) ?? offset;
    node = child.node;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range?.[0];
}

/** Field path of the innermost key or item whose source span contains `offset`. */
function pathAtOffset(doc: Document, offset: number): Array<string | number> {
  const path: Array<string | number> = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((item) => spans(item, offset));
      if (pair === undefined || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => spans(item, offset));
      if (index < 0) return path;
      path.push(index);
      node = node.items[index];
    } else {
      return path;
    }
  }
}

function spans(item: unknown, offset: number): boolean {
  if (isPair(item)) {
    const start = rangeStart(item.key);
    const valueRange = (item.value as Node | null)?.range;
    const keyRange = (item.key as Node | null)?.range;
    const end = valueRange?.[2] ?? keyRange?.[2];
    return start !== undefined && end !== undefined && offset >= start && offset <= end;
  }
  const range = (item as Node | null)?.range;
  return range !== undefined && range !== null && offset >= range[0] && offset <= range[2];
}
