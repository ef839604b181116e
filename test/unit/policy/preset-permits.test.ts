// `policy presets` says what each shipped preset lets through, generated from its rules, and
// the prose descriptions do not promise more than the rules keep.
import { describe, expect, it } from "vitest";
import { endpointPermits, listPresets } from "../../../blueprint/policy/presets.js";

describe("preset permits", () => {
  it("github: the GraphQL endpoint and the webhook deny rules are spelled out, and the description names GraphQL", async () => {
    const github = (await listPresets()).find((p) => p.name === "github");
    expect(github?.permits).toContain(
      "api.github.com:443: GET /**, POST /graphql, POST /repos/*/*/pulls, PATCH /repos/*/*/pulls/*, POST /repos/*/*/pulls/*/reviews, POST /repos/*/*/issues, PATCH /repos/*/*/issues/*, POST /repos/*/*/issues/*/comments; never * /repos/*/*/hooks, * /repos/*/*/hooks/**",
    );
    expect(github?.description).toMatch(/POST \/graphql/);
  });

  it("every shipped preset lists one line per endpoint, and one that promises no DELETE allows none", async () => {
    for (const preset of await listPresets()) {
      const endpoints = Object.values(preset.preset.network_policies).flatMap((np) => np.endpoints ?? []);
      expect(preset.permits).toHaveLength(endpoints.length);
      if (!/no DELETE|no delete|pull only|install only|no publish/.test(preset.description)) continue;
      for (const line of preset.permits) expect(line, `${preset.name}: ${line}`).not.toMatch(/: [^;]*(DELETE|any method|any traffic|\* \/)/);
    }
  });

  it("describes access levels, path scopes and audit-only endpoints", () => {
    expect(endpointPermits({ host: "a.test", port: 443, protocol: "rest", access: "read-only" })).toBe("a.test:443: GET, HEAD, OPTIONS");
    expect(endpointPermits({ host: "a.test", port: 443, protocol: "rest", access: "full", path: "/v1/**", enforcement: "audit" })).toBe("a.test:443: any method under /v1/** (audit only: not enforced)");
    expect(endpointPermits({ host: "a.test", ports: [80, 443] })).toBe("a.test:80, a.test:443: any traffic (not inspected)");
  });
});
