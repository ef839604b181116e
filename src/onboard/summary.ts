// The end of onboarding, for a person: what is protected, how to talk to it, what to do next.
import { renderFields } from "../cli/output.js";
import type { OnboardReport } from "./run.js";

export function renderSummary(r: OnboardReport): string {
  const changed = r.steps.filter((s) => s.status === "done").map((s) => s.title);
  const head = changed.length === 0 ? `Sandbox ${r.name} onboarded: nothing changed` : `Sandbox ${r.name} onboarded (changed: ${changed.join(", ")})`;
  const fields: Array<[string, string]> = Object.entries(r.facts);
  const protectedLines = [
    "  Protected: OpenClaw's gateway and every tool it runs are inside the container (no network but",
    "  the egress proxy: default deny, unknown hosts held for your approval); model keys and channel",
    "  tokens stay on this host (the sandbox holds placeholders); tools run in a stricter Landlock",
    "  domain that cannot read the gateway's state, signal it or reach its port.",
  ];
  const rows: Array<[string, string]> = [
    // The start step left the gateway running in the background, relayed where "Gateway" says.
    ['openclaw agent --agent main -m "hello"', "talk to it (or `openclaw tui`; see Gateway above)"],
    [`openclaw nemoclaw ${r.name} status`, "what is in force inside"],
    ["openclaw nemoclaw approvals", "egress waiting for you"],
    [`openclaw nemoclaw ${r.name} inference set …`, "switch provider or model live"],
    [`openclaw nemoclaw stop|restart ${r.name}`, "the background gateway"],
  ];
  const width = Math.max(...rows.map(([c]) => c.length)) + 2;
  const next = rows.map(([c, what], i) => `  ${i === 0 ? "Next: " : "      "}${c.padEnd(width)}${what}`);
  return `${renderFields(head, fields)}\n\n${protectedLines.join("\n")}\n\n${next.join("\n")}\n`;
}
