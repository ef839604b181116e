import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPolicyFile, parsePolicy, parsePreset } from "../../../blueprint/policy/load.js";
import { mergePresets, MergeConflictError } from "../../../blueprint/policy/merge.js";
import { basePolicyPath, listPresets, presetsDir } from "../../../blueprint/policy/presets.js";
import { changedSections } from "../../../blueprint/policy/diff.js";

const policiesDir = fileURLToPath(new URL("../../../policies/", import.meta.url));

const base = parsePolicy(
  [
    "version: 1",
    "filesystem_policy:",
    "  read_only: [/usr, /etc, /usr/]",
    "  read_write: [/sandbox, /tmp]",
    "landlock: { compatibility: best_effort }",
    "process: { run_as_user: sandbox, run_as_group: sandbox }",
    "network_policies:",
    "  github:",
    "    endpoints:",
    "      - { host: github.com, port: 443 }",
    "    binaries:",
    "      - { path: /usr/bin/git }",
  ].join("\n"),
  { file: "base.yaml" },
).policy;

const preset = (text: string, file: string) => ({ source: file, policy: parsePreset(text, { file }).policy });

describe("mergePresets", () => {
  it("adds every shipped preset to the shipped base without conflict", async () => {
    const baseFile = basePolicyPath(policiesDir);
    const shippedBase = (await loadPolicyFile(baseFile)).policy;
    const presets = await listPresets(presetsDir(policiesDir));
    const merged = mergePresets(
      { source: baseFile, policy: shippedBase },
      presets.map((p) => ({ source: p.file, policy: p.preset })),
    );
    const expectedNames = new Set([...Object.keys(shippedBase.network_policies ?? {}), ...presets.flatMap((p) => p.policies)]);
    expect(new Set(Object.keys(merged.policy.network_policies ?? {}))).toEqual(expectedNames);
    expect(merged.policy.filesystem_policy).toEqual(shippedBase.filesystem_policy);
    expect(merged.origins["npm"]).toEqual([presets.find((p) => p.name === "npm")?.file]);
    // Adding presets only touches the dynamic section: no sandbox recreation needed.
    expect(changedSections(shippedBase, merged.policy)).toEqual({ static: [], dynamic: ["network_policies"], recreateNeeded: false });
  });

  it("keeps static sections from the base and dedupes its lists", () => {
    const merged = mergePresets({ source: "base.yaml", policy: base }, []);
    expect(merged.policy.filesystem_policy?.read_only).toEqual(["/usr", "/etc"]);
    expect(merged.policy.landlock).toEqual({ compatibility: "best_effort" });
    expect(merged.policy.process).toEqual({ run_as_user: "sandbox", run_as_group: "sandbox" });
  });

  it("accepts a preset that repeats a policy identically (order, duplicates and name aside)", () => {
    const same = preset(
      [
        "description: same github",
        "network_policies:",
        "  github:",
        "    name: github",
        "    endpoints:",
        "      - { host: github.com, port: 443 }",
        "      - { host: github.com, port: 443 }",
        "    binaries:",
        "      - { path: /usr/bin/git }",
      ].join("\n"),
      "presets/github-again.yaml",
    );
    const merged = mergePresets({ source: "base.yaml", policy: base }, [same]);
    expect(merged.origins["github"]).toEqual(["base.yaml", "presets/github-again.yaml"]);
    expect(merged.policy.network_policies?.["github"]?.endpoints).toEqual([{ host: "github.com", port: 443 }]);
  });

  it("refuses a preset that redefines an existing policy, naming both sources", () => {
    const wider = preset(
      [
        "description: wider github",
        "network_policies:",
        "  github:",
        "    endpoints:",
        "      - { host: github.com, port: 443 }",
        "    binaries:",
        "      - { path: /usr/bin/git }",
        "      - { path: /usr/bin/curl }",
      ].join("\n"),
      "presets/wider.yaml",
    );
    expect(() => mergePresets({ source: "base.yaml", policy: base }, [wider])).toThrow(MergeConflictError);
    try {
      mergePresets({ source: "base.yaml", policy: base }, [wider]);
    } catch (error) {
      expect(error).toMatchObject({ policyName: "github", existingSource: "base.yaml", incomingSource: "presets/wider.yaml" });
      expect((error as Error).message).toBe(
        'network policy "github" is defined differently by base.yaml and presets/wider.yaml; rename it in one of them or make both definitions identical',
      );
    }
  });

  it("refuses two presets that disagree with each other", () => {
    const a = preset("description: a\nnetwork_policies:\n  api:\n    endpoints: [{ host: a.example.com, port: 443 }]\n    binaries: [{ path: /usr/bin/node }]\n", "a.yaml");
    const b = preset("description: b\nnetwork_policies:\n  api:\n    endpoints: [{ host: b.example.com, port: 443 }]\n    binaries: [{ path: /usr/bin/node }]\n", "b.yaml");
    expect(() => mergePresets({ source: "base.yaml", policy: base }, [a, b])).toThrow(/defined differently by a\.yaml and b\.yaml/);
  });

  it("dedupes lists inside added policies", () => {
    const dup = preset(
      [
        "description: dup",
        "network_policies:",
        "  api:",
        "    endpoints:",
        "      - host: api.example.com",
        "        ports: [443, 443]",
        "        protocol: rest",
        "        enforcement: enforce",
        "        rules:",
        "          - allow: { method: GET, path: /** }",
        "          - allow: { method: GET, path: /** }",
        "    binaries:",
        "      - { path: /usr/bin/node }",
        "      - { path: /usr/bin/node }",
      ].join("\n"),
      "dup.yaml",
    );
    const merged = mergePresets({ source: "base.yaml", policy: base }, [dup]);
    const api = merged.policy.network_policies?.["api"];
    expect(api?.binaries).toEqual([{ path: "/usr/bin/node" }]);
    expect(api?.endpoints?.[0]?.ports).toEqual([443]);
    expect(api?.endpoints?.[0]?.rules).toEqual([{ allow: { method: "GET", path: "/**" } }]);
  });

  it("does not modify its inputs", () => {
    const before = structuredClone(base);
    mergePresets({ source: "base.yaml", policy: base }, []);
    expect(base).toEqual(before);
  });
});
