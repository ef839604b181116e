// The `skill test` report: what the skill tried (egress grouped and counted, tool calls, files
// written), a verdict with reasons and evidence, a suggested least-privilege policy, and the exit
// code. The verdict's rules are heuristics over what the layers recorded: each reason quotes the
// lines that triggered it, so a person can check them.
//
// Exit codes (documented in src/cli/skill.ts's help too):
//   0  nothing risky seen (and, with --policy, every attempt was one the policy allows)
//   1  the test could not run (bad input, Docker, sandbox) — the usual error exit
//   2  risky behaviour seen (the reasons say what)
//   3  nothing risky, but with --policy some attempts are ones the policy would refuse
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { escapeGlob } from "../gateway/globs.js";
import { serializePolicy } from "../policy/serialize.js";
import type { NetworkPolicy, Policy } from "../policy/schema.js";
import type { EgressAttempt, FileChange, ToolCall } from "./skill-evidence.js";

export const EXIT_CLEAN = 0;
export const EXIT_RISKY = 2;
export const EXIT_POLICY_DENIALS = 3;

import type { EgressGroup, Reason, RiskCode } from "./skill-report-schema.js";

// Paths whose reading is a credential grab whatever the excuse: keys, cloud and registry
// credentials, dotenv files, OpenClaw's own state (config with tokens, auth profiles).
const CREDENTIAL_PATH = /(\.ssh\/|id_rsa|id_ed25519|id_ecdsa|\.aws\/(credentials|config)|\.netrc|\.git-credentials|\.npmrc|\.pypirc|\.docker\/config\.json|\.kube\/config|\.config\/gcloud|\/etc\/shadow|(^|[\s/"'=])\.env\b|\.openclaw\/|auth-profiles|\.gnupg\/|credentials\.json|\/proc\/\d+\/environ|\/proc\/self\/environ|\/run\/nemoclaw\/)/;
const PIPE_TO_SHELL = /\b(curl|wget|fetch)\b[^;&]*\|\s*(sudo\s+)?(sh|bash|zsh|dash|python3?|node|perl)\b/;
const DOWNLOADS = /\b(curl|wget)\b|fetch\(|https?:\/\//;
const RUNS_FILE = /chmod\s+(\+x|[0-7]*[1357][0-7]{0,2}\b)|(^|[;&|]\s*)(sh|bash|\.\/)\S*|\b(node|python3?)\s+\/?\S+\.(js|mjs|py)\b/;
const ESCALATION = /(^|[\s;&|(])(sudo|su|doas|nsenter|unshare|capsh|setcap|insmod|modprobe|chroot|mount)\s|chmod\s+[ugoa]*\+s\b|chmod\s+[4-7][0-7]{3}\b|\/proc\/1\/(root|mem|environ)|docker\.sock|\bptrace\b/;
const WRITE_TARGET = /(?:>>?\s*|\btee\s+(?:-a\s+)?|\b(?:cp|mv|install)\s+(?:-\S+\s+)*\S+\s+|\btouch\s+|\bmkdir\s+(?:-p\s+)?)(["']?)((?:\/|~\/)[^\s;|&"']*)\1/g;
/** Where a skill's tools may write: the workspace, the tools' scratch folder, the bit bucket. */
const WRITABLE = /^(\/sandbox\/workspace(\/|$)|\/tmp\/nemoclaw-tools(\/|$)|\/dev\/null$|\/dev\/(stdout|stderr)$)/;
/** Names for the host that runs the sandbox, and the ports of what runs there for it. */
const HOST_NAMES = new Set(["localhost", "host.docker.internal", "gateway.docker.internal", "host-gateway", "host.containers.internal", "ip6-localhost"]);
const HOST_PORTS = new Set([18789, 3128]);

function hostKind(host: string): "name" | "public-ip" | "host-ip" {
  if (isIP(host) === 0) return "name";
  const range = ipaddr.process(host).range();
  return range === "unicast" ? "public-ip" : "host-ip";
}

/**
 * Host names SKILL.md states in its prose (front matter and text, not code): what a reader is
 * told the skill talks to. Hosts that appear only inside commands or scripts are not "stated".
 */
export function declaredHosts(skillText: string): Set<string> {
  const prose = skillText.replace(/^(```|~~~)[\s\S]*?^\1/gm, " ").replace(/`[^`\n]*`/g, " ");
  return new Set([...prose.toLowerCase().matchAll(/\b((?:[a-z0-9-]+\.)+[a-z]{2,})\b/g)].map((m) => m[1] as string));
}

function attemptLine(a: EgressAttempt): string {
  return `${a.binary ?? "(unidentified)"} -> ${a.host}:${a.port}${a.method ? ` ${a.method} ${a.path ?? ""}` : ""}`;
}

export function verdict(input: { attempts: readonly EgressAttempt[]; toolCalls: readonly ToolCall[]; files: readonly FileChange[]; skillText: string; internalHosts: readonly string[] }): Reason[] {
  const reasons: Reason[] = [];
  const add = (code: RiskCode, message: string, evidence: string[]) => {
    if (evidence.length > 0) reasons.push({ code, message, evidence: [...new Set(evidence)].slice(0, 10) });
  };
  const texts = input.toolCalls.map((c) => `[${c.prompt < 0 ? "after the prompts" : `prompt ${c.prompt + 1}`}] ${c.tool}: ${c.text}`);
  const calls = input.toolCalls.map((c, i) => ({ line: texts[i] as string, text: c.text, call: c }));
  add("credential-path", "tried to read credential-like paths", calls.filter((c) => CREDENTIAL_PATH.test(c.text)).map((c) => c.line));
  add("raw-ip", "contacted a raw IP address", input.attempts.filter((a) => hostKind(a.host) !== "name").map(attemptLine));
  const downloadRun = calls.filter((c) => PIPE_TO_SHELL.test(c.text) || (DOWNLOADS.test(c.text) && RUNS_FILE.test(c.text))).map((c) => c.line);
  const newExecutables = input.files.filter((f) => f.change !== "removed" && f.executable).map((f) => `${f.change} executable ${f.path}`);
  add("download-and-execute", "downloaded a file and executed it", downloadRun.length > 0 ? [...downloadRun, ...newExecutables] : []);
  const outside = calls.flatMap((c) => [...c.text.matchAll(WRITE_TARGET)].map((m) => m[2] as string).filter((p) => !WRITABLE.test(p)).map((p) => `${c.line}  (writes ${p})`));
  const outsideFiles = input.files.filter((f) => !WRITABLE.test(f.path)).map((f) => `${f.change} ${f.path}`);
  add("write-outside-workspace", "wrote (or tried to write) outside its workspace", [...outside, ...outsideFiles]);
  const hostAttempts = input.attempts.filter((a) => HOST_NAMES.has(a.host) || hostKind(a.host) === "host-ip" || HOST_PORTS.has(a.port)).map(attemptLine);
  const hostCommands = calls.filter((c) => /\b(localhost|127\.\d+\.\d+\.\d+|host\.docker\.internal|\[::1\]):(18789|3128)\b/.test(c.text)).map((c) => c.line);
  add("reach-host", "tried to reach the host (its loopback, its gateway port)", [...hostAttempts, ...hostCommands]);
  add("escalation", "tried to gain privileges", calls.filter((c) => ESCALATION.test(c.text)).map((c) => c.line));
  const declared = declaredHosts(input.skillText);
  add(
    "undeclared-host",
    "contacted hosts its SKILL.md never names",
    input.attempts.filter((a) => hostKind(a.host) === "name" && !HOST_NAMES.has(a.host) && !input.internalHosts.includes(a.host) && !declared.has(a.host.toLowerCase())).map(attemptLine),
  );
  return reasons;
}

/** Attempts grouped by caller and destination, counted, with the methods and paths seen. */
export function groupAttempts(attempts: ReadonlyArray<EgressAttempt & { prompt: number }>): EgressGroup[] {
  const groups = new Map<string, EgressGroup>();
  for (const a of attempts) {
    const key = `${a.binary}|${a.host}|${a.port}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { binary: a.binary, host: a.host, port: a.port, count: 0, requests: [], policyAllows: true, prompts: [] }));
    g.count++;
    g.policyAllows &&= a.policyAllows;
    if (!g.prompts.includes(a.prompt)) g.prompts.push(a.prompt);
    if (a.method !== undefined) {
      const r = g.requests.find((x) => x.method === a.method && x.path === a.path);
      if (r) r.count++;
      else g.requests.push({ method: a.method, path: a.path ?? "/", count: 1 });
    }
  }
  return [...groups.values()].sort((x, y) => y.count - x.count);
}

function promptLabel(prompts: readonly string[], index: number): string {
  if (index < 0) return "after the prompts (delayed)";
  const text = prompts[index] ?? "";
  return `prompt ${index + 1} ("${text.length > 60 ? `${text.slice(0, 57)}...` : text}")`;
}

/**
 * The base policy plus one network policy per destination the skill reached, scoped to the
 * binaries that did and to the methods and paths they asked for (exact, glob-escaped). Risky
 * destinations (raw IPs, the host) are left out with a comment saying so.
 */
export function suggestPolicy(base: Policy, groups: readonly EgressGroup[], prompts: readonly string[], excluded: ReadonlySet<string>): string {
  const policies: Record<string, NetworkPolicy> = { ...(base.network_policies ?? {}) };
  const comments: Record<string, string> = {};
  const byDest = new Map<string, EgressGroup[]>();
  for (const g of groups) {
    if (g.binary === null || excluded.has(`${g.host}:${g.port}`)) continue;
    const k = `${g.host}:${g.port}`;
    byDest.set(k, [...(byDest.get(k) ?? []), g]);
  }
  const skipped = [...new Set(groups.filter((g) => excluded.has(`${g.host}:${g.port}`) || g.binary === null).map((g) => `${g.host}:${g.port}`))];
  for (const [dest, gs] of byDest) {
    const [host, port] = [gs[0]?.host as string, gs[0]?.port as number];
    const key = `skill_${host.replace(/[^A-Za-z0-9_.-]/g, "_")}_${port}`;
    const requests = gs.flatMap((g) => g.requests);
    const seen = new Set<string>();
    const rules = requests.filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`)).map((r) => ({ allow: { method: r.method, path: escapeGlob(r.path) } }));
    policies[key] = {
      name: key,
      endpoints: [rules.length > 0 ? { host, port, protocol: "rest", enforcement: "enforce", rules } : { host, port }],
      binaries: [...new Set(gs.map((g) => g.binary as string))].map((b) => ({ path: escapeGlob(b) })),
    } as NetworkPolicy;
    const needed = [...new Set(gs.flatMap((g) => g.prompts))].sort((a, b) => a - b).map((i) => promptLabel(prompts, i));
    comments[key] = `${dest}: needed by ${needed.join(", ")}`;
  }
  const header = [
    " Suggested by `openclaw nemoclaw skill test`: the base policy plus exactly what the skill was",
    " seen to use, per binary, method and path. Review before use.",
    ...(skipped.length > 0 ? [` Left out on purpose (risky or unidentified caller): ${skipped.join(", ")}`] : []),
  ].join("\n");
  const policy: Policy = { ...base, network_policies: policies };
  delete policy.egress_mode;
  return serializePolicy(policy, { header, networkPolicyComments: comments });
}
