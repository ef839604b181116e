import { describe, expect, it } from "vitest";
import { parsePolicy } from "../../../blueprint/policy/load.js";
import { cidrProblem, hostProblem, PolicySchema } from "../../../blueprint/policy/schema.js";
import { changedSections } from "../../../blueprint/policy/diff.js";
import { policyWarnings } from "../../../blueprint/policy/warnings.js";

describe("hostProblem", () => {
  it.each([
    "api.github.com", "*.github.com", "**.github.com", "*-aiplatform.googleapis.com", "*.discord.gg",
    "10.0.0.1", "::1", "host.docker.internal", "localhost", "my_host.example.com",
  ])("accepts %s", (host) => {
    expect(hostProblem(host)).toBeUndefined();
  });

  it.each([
    ["*", "every host"], ["**", "every host"], ["*.com", "public suffix"], ["**.io", "public suffix"],
    ["*.co.uk", "public suffix"], ["api.*.example.com", "first label"], ["*.*.example.com", "first label"],
    ["a**b.example.com", "wildcard label"], ["api..example.com", "empty label"], ["api.example.com.", "empty label"],
    ["-bad.example.com", "not a valid DNS label"], ["http://x.example.com", "URL"], ["x.example.com/path", "path"],
    ["x.example.com:8080", "port"], ["[::1]", "brackets"], ["", "empty"],
  ])("refuses %s (%s)", (host, reason) => {
    expect(hostProblem(host)).toContain(reason);
  });
});

describe("cidrProblem", () => {
  it.each(["10.0.0.0/8", "192.168.1.20", "127.0.0.1/32", "::1/128", "fd12:3456::/32", "172.16.0.0/12", "100.64.0.0/10"])("accepts %s", (entry) => {
    expect(cidrProblem(entry)).toBeUndefined();
  });

  it.each([
    ["10.0.0.0/33", "out of range"], ["fe80::/129", "out of range"], ["10.0.0.0/x", "prefix"], ["10.0.0", "not an IP"],
    ["example.com", "not an IP"], ["0.0.0.0/0", "every address"], ["0.0.0.0", "unspecified"], ["::/128", "unspecified"],
    ["169.254.0.0/16", "metadata"], ["169.254.169.254", "metadata"], ["100.100.100.200", "metadata"], ["192.0.0.192", "metadata"], ["fd00:ec2::/32", "metadata"], ["1.2.3.4/8/9", "not an IP"],
  ])("refuses %s (%s)", (entry, reason) => {
    expect(cidrProblem(entry)).toContain(reason);
  });
});

describe("changedSections", () => {
  const base = parsePolicy(
    [
      "version: 1",
      "filesystem_policy: { read_only: [/usr, /etc], read_write: [/tmp] }",
      "landlock: { compatibility: best_effort }",
      "process: { run_as_user: sandbox }",
      "network_policies:",
      "  a:",
      "    endpoints: [{ host: a.example.com, port: 443 }]",
      "    binaries: [{ path: /usr/bin/node }]",
    ].join("\n"),
  ).policy;
  const edit = (change: (p: typeof base) => void): typeof base => {
    const copy = structuredClone(base);
    change(copy);
    return copy;
  };

  it("nothing when only order or duplicates differ", () => {
    const reordered = edit((p) => {
      p.filesystem_policy = { read_only: ["/etc/", "/usr", "/usr"], read_write: ["/tmp"] };
    });
    expect(changedSections(base, reordered)).toEqual({ static: [], dynamic: [], recreateNeeded: false });
  });

  it("network changes are dynamic", () => {
    const more = edit((p) => {
      p.network_policies = { ...p.network_policies, b: { endpoints: [{ host: "b.example.com", port: 443 }], binaries: [{ path: "/usr/bin/node" }] } };
    });
    expect(changedSections(base, more)).toEqual({ static: [], dynamic: ["network_policies"], recreateNeeded: false });
  });

  it("filesystem, landlock and process changes need a recreate", () => {
    const changed = edit((p) => {
      p.filesystem_policy = { read_only: ["/usr"], read_write: ["/tmp"] };
      p.landlock = { compatibility: "hard_requirement" };
      p.process = { run_as_user: "1000" };
    });
    expect(changedSections(base, changed)).toEqual({
      static: ["filesystem_policy", "landlock", "process"],
      dynamic: [],
      recreateNeeded: true,
    });
  });

  it("an absent landlock section equals the best_effort default", () => {
    expect(changedSections(base, edit((p) => delete p.landlock)).static).toEqual([]);
  });
});

describe("policyWarnings", () => {
  it("flags rules that would not do what they say", () => {
    const policy = PolicySchema.parse({
      version: 1,
      filesystem_policy: { read_only: ["/sandbox/.config", "/usr", "/usr"], read_write: ["/sandbox"] },
      network_policies: {
        open: {
          endpoints: [
            { host: "a.example.com", port: 443, access: "read-only" },
            { host: "b.example.com", port: 443, protocol: "rest", access: "read-only" },
          ],
          binaries: [{ path: "/**" }],
        },
        empty: { endpoints: [] },
      },
    });
    expect(policyWarnings(policy).map((w) => [w.path.join("."), w.message.slice(0, 40)])).toEqual([
      ["filesystem_policy.read_only.2", '"/usr" is listed twice in read_only'],
      ["filesystem_policy.read_only.0", '"/sandbox/.config" is inside read-write '],
      ["network_policies.open.binaries.0.path", '"/**" matches every executable, so any p'],
      ["network_policies.open.endpoints.0.access", "without `protocol: rest` requests are no"],
      ["network_policies.open.endpoints.1.protocol", "no `enforcement:`; nemoclaw enforces the"],
      ["network_policies.empty", 'network policy "empty" lists no endpoint'],
      ["network_policies.empty", 'network policy "empty" lists no binaries'],
    ]);
  });
});
