// The deny-always tag that carries `/nemoclaw deny <id> always` through OpenClaw's resolvedBy.
import { describe, expect, it } from "vitest";
import { asksDenyAlways, DENY_ALWAYS_TAG } from "../../../blueprint/supervisor/tool-backend/chat-decision-tag.js";

describe("asksDenyAlways", () => {
  it("is true only for a name that ends with the tag", () => {
    expect(asksDenyAlways(`/nemoclaw by webchat:op${DENY_ALWAYS_TAG}`)).toBe(true);
    expect(asksDenyAlways("/nemoclaw by webchat:op")).toBe(false);
    expect(asksDenyAlways(`${DENY_ALWAYS_TAG} and more`)).toBe(false);
    expect(asksDenyAlways(null)).toBe(false);
    expect(asksDenyAlways(undefined)).toBe(false);
  });
});
