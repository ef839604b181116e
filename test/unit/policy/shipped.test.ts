import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPolicyFile, parsePolicy } from "../../../blueprint/policy/load.js";
import { basePolicyPath, listPresets, presetsDir } from "../../../blueprint/policy/presets.js";
import { policiesDir as shippedPoliciesDir } from "../../../blueprint/state/runtime-files.js";
import { ENFORCED_PROTOCOLS, isWithin } from "../../../blueprint/policy/schema.js";

const policiesDir = fileURLToPath(new URL("../../../policies/", import.meta.url)).replace(/\/$/, "");

const REQUIRED_PRESETS = [
  "discord", "docker", "github", "huggingface", "jira", "local-inference", "npm", "outlook", "pypi", "slack", "telegram",
];

describe("the shipped base policy", () => {
  it("is found from the source tree", () => {
    expect(shippedPoliciesDir()).toBe(policiesDir);
  });

  it("loads without warnings", async () => {
    const { warnings } = await loadPolicyFile(basePolicyPath(policiesDir));
    expect(warnings).toEqual([]);
  });

  it("writes only under /sandbox, /tmp and device nodes", async () => {
    const { policy } = await loadPolicyFile(basePolicyPath(policiesDir));
    const writable = policy.filesystem_policy?.read_write ?? [];
    expect(writable).toContain("/sandbox");
    expect(writable).toContain("/tmp");
    for (const path of writable) {
      expect(isWithin(path, "/sandbox") || isWithin(path, "/tmp") || path.startsWith("/dev/")).toBe(true);
    }
    expect(policy.filesystem_policy?.include_workdir).toBe(false);
    expect(policy.landlock?.compatibility).toBe("best_effort");
    expect(policy.process).toEqual({ run_as_user: "sandbox", run_as_group: "sandbox" });
  });

  it("opens only the inference router to OpenClaw", async () => {
    const { policy } = await loadPolicyFile(basePolicyPath(policiesDir));
    expect(Object.keys(policy.network_policies ?? {})).toEqual(["nemoclaw_inference"]);
    const hosts = Object.values(policy.network_policies ?? {}).flatMap((np) => (np.endpoints ?? []).map((ep) => ep.host));
    expect(hosts).toEqual(["inference.local"]);
  });
});

describe("the shipped presets", () => {
  it("include at least the documented set, each with a description and destinations", async () => {
    const presets = await listPresets(presetsDir(policiesDir));
    expect(presets.map((p) => p.name)).toEqual(expect.arrayContaining(REQUIRED_PRESETS));
    for (const preset of presets) {
      expect(preset.description, preset.name).toMatch(/\S/);
      expect(preset.description, preset.name).not.toContain("\n");
      expect(preset.allows.length, preset.name).toBeGreaterThan(0);
    }
  });

  it("all load without warnings", async () => {
    const presets = await listPresets(presetsDir(policiesDir));
    for (const preset of presets) expect(preset.warnings, preset.name).toEqual([]);
  });

  it("name the binaries of every policy, enforce every inspected endpoint, and stay off bare wildcards", async () => {
    const presets = await listPresets(presetsDir(policiesDir));
    for (const preset of presets) {
      for (const [name, np] of Object.entries(preset.preset.network_policies)) {
        expect(np.binaries?.length, `${preset.name}/${name}`).toBeGreaterThan(0);
        for (const binary of np.binaries ?? []) expect(binary.path).not.toMatch(/^\/\*+$/);
        for (const endpoint of np.endpoints ?? []) {
          if (endpoint.protocol !== undefined) {
            expect(ENFORCED_PROTOCOLS.has(endpoint.protocol), `${preset.name}/${endpoint.host}`).toBe(true);
            expect(endpoint.enforcement, `${preset.name}/${endpoint.host}`).toBe("enforce");
          }
        }
      }
    }
  });

  it("describe what they allow as host:port", async () => {
    const presets = await listPresets(presetsDir(policiesDir));
    const byName = new Map(presets.map((p) => [p.name, p]));
    expect(byName.get("npm")?.allows).toEqual(["registry.npmjs.org:443", "registry.yarnpkg.com:443"]);
    expect(byName.get("pypi")?.allows).toEqual(["files.pythonhosted.org:443", "pypi.org:443"]);
    expect(byName.get("github")?.allows).toEqual(
      expect.arrayContaining(["github.com:443", "api.github.com:443", "codeload.github.com:443", "raw.githubusercontent.com:443", "objects.githubusercontent.com:443"]),
    );
    expect(byName.get("local-inference")?.allows).toContain("host.docker.internal:11434");
  });

  it("local-inference pins the host name to loopback with allowed_ips", async () => {
    const presets = await listPresets(presetsDir(policiesDir));
    const local = presets.find((p) => p.name === "local-inference");
    const endpoints = Object.values(local?.preset.network_policies ?? {}).flatMap((np) => np.endpoints ?? []);
    expect(endpoints.length).toBeGreaterThan(0);
    for (const endpoint of endpoints) expect(endpoint.allowed_ips).toEqual(["127.0.0.1/32", "::1/128"]);
  });
});

describe("the README example", () => {
  it("is a valid policy", async () => {
    const readme = await readFile(new URL("../../../blueprint/policy/README.md", import.meta.url), "utf8");
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    expect(parsePolicy(example ?? "", { file: "README.md" }).warnings).toEqual([]);
  });
});
