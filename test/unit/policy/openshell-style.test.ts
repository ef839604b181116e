import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatIssue, loadPolicyFile, loadPresetFile } from "../../../blueprint/policy/load.js";
import { presetDescription } from "../../../blueprint/policy/schema.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/policies/${name}`, import.meta.url));

describe("a policy in the published OpenShell/NemoClaw style", () => {
  it("loads, keeping unenforced fields and warning about each", async () => {
    const file = fixture("openshell-style.yaml");
    const { policy, warnings } = await loadPolicyFile(file);
    expect(Object.keys(policy.network_policies ?? {})).toEqual(["npm_registry", "slack", "github_graphql", "search_mcp", "internal_api"]);
    expect(policy.network_policies?.["npm_registry"]?.endpoints?.[0]).toMatchObject({ tls: "terminate", allow_encoded_slash: true });
    expect(policy.network_middlewares).toBeDefined();

    expect(warnings.map((w) => `${w.line}:${w.column} ${w.field}`)).toEqual([
      "37:30 network_policies.npm_registry.endpoints[0].allow_encoded_slash",
      "49:42 network_policies.slack.endpoints[0].request_body_credential_rewrite",
      "63:19 network_policies.github_graphql.endpoints[0].protocol",
      "67:31 network_policies.github_graphql.endpoints[0].rules[0].allow.operation_type",
      "69:29 network_policies.github_graphql.endpoints[0].deny_rules[0].operation_type",
      "70:21 network_policies.github_graphql.endpoints[0].deny_rules[0].fields",
      "78:19 network_policies.search_mcp.endpoints[0].protocol",
      "81:11 network_policies.search_mcp.endpoints[0].mcp",
      "86:17 network_policies.search_mcp.endpoints[0].rules[0].allow.tool",
      "103:3 network_middlewares",
    ]);
    for (const warning of warnings) {
      expect(warning.file).toBe(file);
      expect(warning.message).toMatch(/not enforced by nemoclaw yet/);
    }
    expect(formatIssue(warnings[9]!)).toBe(
      `${file}:103:3 network_middlewares: field "network_middlewares" is not enforced by nemoclaw yet; it is kept but has no effect`,
    );
  });

  it("a NemoClaw preset with a `preset:` block loads, description and all", async () => {
    const { policy, warnings } = await loadPresetFile(fixture("nemoclaw-preset-style.yaml"));
    expect(warnings).toEqual([]);
    expect(presetDescription(policy)).toBe("Weather forecasts");
    expect(policy.preset?.name).toBe("weather");
  });
});
