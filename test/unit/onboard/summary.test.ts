import { describe, expect, it } from "vitest";
import { renderSummary } from "../../../src/onboard/summary.js";

describe("onboarding's summary", () => {
  it("points at the gateway onboarding left running (not a foreground one on a fixed port) and how to stop it", () => {
    const text = renderSummary({ ok: true, name: "demo", steps: [], facts: { Gateway: "running inside demo; relayed on http://127.0.0.1:28789" } });
    expect(text).toContain("http://127.0.0.1:28789");
    expect(text).not.toContain("18789 (foreground)");
    expect(text).toContain('openclaw agent --agent main -m "hello"');
    expect(text).toContain("openclaw nemoclaw stop|restart demo");
  });
});
