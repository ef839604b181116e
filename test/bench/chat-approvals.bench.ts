// `npm run bench`: egress approvals in the chat (test/helpers/chat-sandbox.ts), measured on a
// real gateway sandbox with a request from the tools' domain each time:
//   - held → prompt visible: the approval's creation in the runtime to the test operator
//     receiving plugin.approval.requested from the sandbox's OpenClaw (goal ≤ 500 ms p50);
//   - decision → released: the operator's plugin.approval.resolve sent to the upstream seeing the
//     request (goal ≤ 200 ms p50), against the host CLI's decision (the control route) measured
//     the same way in the same run as the baseline.
// No timed assertions: the goals are read off the output.
import { test } from "vitest";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { createChatSandbox } from "../helpers/chat-sandbox.js";

const SAMPLES = 12;
const HOST = "bench.sbx.test";

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

test("chat approvals: held → prompt, decision → released", async () => {
  const c = await createChatSandbox("bench", [HOST], 60_000);
  const prompt: number[] = [];
  const chat: number[] = [];
  const cli: number[] = [];
  try {
    for (let i = 0; i < SAMPLES * 2; i++) {
      const viaChat = i % 2 === 0;
      const t0 = Date.now();
      const seenBefore = c.upstream.seen.length;
      const call = c.getFromTools(HOST, `/sample/${i}`);
      const shown = await c.promptFor(HOST, t0);
      const [held] = await c.pending(HOST);
      prompt.push(shown.at - Date.parse(held!.createdAt));
      const decided = performance.now();
      if (viaChat) await c.operator.request("plugin.approval.resolve", { id: shown.id, decision: "allow-once" }, 15_000);
      else await controlRequest(c.h.stateDir, "POST", "/egress/approvals/decide", { id: held!.id, decision: "approve" });
      // Polled every millisecond: the helper's 25 ms poll would swamp what is measured.
      while (c.upstream.seen.length === seenBefore) await new Promise((r) => setTimeout(r, 1));
      (viaChat ? chat : cli).push(performance.now() - decided);
      await call;
    }
  } finally {
    await c.dispose();
  }
  const line = (label: string, values: number[]) => `  ${label}: p50 ${p50(values).toFixed(1)} ms (n=${values.length}, min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`;
  process.stdout.write(
    [
      "Chat approvals",
      "",
      line("Held → prompt visible", prompt),
      line("Chat decision → released", chat),
      line("Host CLI decision → released (baseline)", cli),
      `  Chat / CLI release p50: ${(p50(chat) / p50(cli)).toFixed(2)}x`,
      "",
    ].join("\n"),
  );
}, 900_000);
