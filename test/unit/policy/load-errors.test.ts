import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPolicyFile, parsePolicy, parsePreset, PolicyError } from "../../../blueprint/policy/load.js";
import type { PolicyIssue } from "../../../blueprint/policy/load.js";

/** Joins lines so that line N of the YAML is the Nth argument. */
const yaml = (...lines: string[]): string => `${lines.join("\n")}\n`;

const VALID_ENDPOINT = ["      - host: api.example.com", "        port: 443"];

function issuesOf(run: () => unknown): PolicyIssue[] {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyError) return error.issues;
    throw error;
  }
  throw new Error("expected a PolicyError");
}

function onlyIssue(text: string, file = "policy.yaml"): PolicyIssue {
  const issues = issuesOf(() => parsePolicy(text, { file }));
  expect(issues).toHaveLength(1);
  return issues[0] as PolicyIssue;
}

describe("policy load errors name file, line, column and field", () => {
  it("unknown field, with a suggestion", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1", //
        "filesystem_policy:",
        "  read_only: [/usr]",
        "  read_wirte: [/tmp]",
      ),
    );
    expect(issue).toMatchObject({ file: "policy.yaml", line: 4, column: 3, field: "filesystem_policy.read_wirte" });
    expect(issue.message).toContain('unknown field "read_wirte"');
    expect(issue.message).toContain('did you mean "read_write"');
  });

  it("unknown field deep in an endpoint", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1",
        "network_policies:",
        "  api:",
        "    endpoints:",
        ...VALID_ENDPOINT,
        "        timeout: 30",
        "    binaries:",
        "      - { path: /usr/bin/node }",
      ),
    );
    expect(issue).toMatchObject({ line: 7, column: 9, field: "network_policies.api.endpoints[0].timeout" });
    expect(issue.message).toMatch(/unknown field "timeout".*remove it/);
  });

  it("wildcard over a public suffix (*.com)", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1",
        "network_policies:",
        "  everything:",
        "    endpoints:",
        '      - host: "*.com"',
        "        port: 443",
        "    binaries:",
        "      - { path: /usr/bin/node }",
      ),
    );
    expect(issue).toMatchObject({ line: 5, column: 15, field: "network_policies.everything.endpoints[0].host" });
    expect(issue.message).toContain("public suffix");
    expect(issue.message).toContain("*.example.com");
  });

  it.each([
    ['"*"', "matches every host"],
    ['"**"', "matches every host"],
    ['"*.co.uk"', "public suffix"],
    ['"api.*.example.com"', "only allowed in the first label"],
    ['"foo**.example.com"', "not a valid wildcard label"],
    ["https://api.example.com", "is a URL"],
    ["api.example.com:443", "includes a port"],
  ])("host %s is refused", (host, reason) => {
    const issue = onlyIssue(
      yaml(
        "version: 1",
        "network_policies:",
        "  p:",
        "    endpoints:",
        `      - host: ${host}`,
        "        port: 443",
        "    binaries: [{ path: /usr/bin/node }]",
      ),
    );
    expect(issue).toMatchObject({ line: 5, field: "network_policies.p.endpoints[0].host" });
    expect(issue.message).toContain(reason);
  });

  it("port out of range", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1",
        "network_policies:",
        "  api:",
        "    endpoints:",
        "      - host: api.example.com",
        "        port: 70000",
        "    binaries:",
        "      - { path: /usr/bin/node }",
      ),
    );
    expect(issue).toMatchObject({ line: 6, column: 15, field: "network_policies.api.endpoints[0].port" });
    expect(issue.message).toBe("port 70000 is out of range; use a port from 1 to 65535");
  });

  it("port out of range inside a ports list", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1",
        "network_policies:",
        "  api:",
        "    endpoints:",
        "      - host: api.example.com",
        "        ports: [443, 0]",
        "    binaries: [{ path: /usr/bin/node }]",
      ),
    );
    expect(issue).toMatchObject({ line: 6, column: 22, field: "network_policies.api.endpoints[0].ports[1]" });
  });

  it("read-write /", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1", //
        "filesystem_policy:",
        "  read_write:",
        "    - /tmp",
        "    - /",
      ),
    );
    expect(issue).toMatchObject({ line: 5, column: 7, field: "filesystem_policy.read_write[1]" });
    expect(issue.message).toContain("write anywhere");
  });

  it("read-write / written with extra slashes", () => {
    const issue = onlyIssue(yaml("version: 1", "filesystem_policy:", "  read_write: [//]"));
    expect(issue).toMatchObject({ line: 3, column: 16, field: "filesystem_policy.read_write[0]" });
  });

  it("a path in both read_only and read_write", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1", //
        "filesystem_policy:",
        "  read_only: [/usr, /etc]",
        "  read_write: [/tmp, /etc/]",
      ),
    );
    expect(issue).toMatchObject({ line: 4, column: 22, field: "filesystem_policy.read_write[1]" });
    expect(issue.message).toContain("both read_only and read_write");
  });

  it("relative and traversing paths", () => {
    const issues = issuesOf(() =>
      parsePolicy(yaml("version: 1", "filesystem_policy:", "  read_only:", "    - usr", "    - /usr/../etc"), { file: "p.yaml" }),
    );
    expect(issues.map((i) => [i.line, i.field])).toEqual([
      [4, "filesystem_policy.read_only[0]"],
      [5, "filesystem_policy.read_only[1]"],
    ]);
    expect(issues[0]?.message).toContain("absolute");
    expect(issues[1]?.message).toContain("..");
  });

  it("duplicate keys", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1", //
        "filesystem_policy:",
        "  read_only: [/usr]",
        "  read_write: [/tmp]",
        "  read_only: [/etc]",
      ),
    );
    expect(issue).toMatchObject({ line: 5, column: 3, field: "filesystem_policy.read_only" });
    expect(issue.message).toContain('duplicate key "read_only"');
  });

  it("duplicate network policy names", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1",
        "network_policies:",
        "  github:",
        "    endpoints: [{ host: github.com, port: 443 }]",
        "    binaries: [{ path: /usr/bin/git }]",
        "  github:",
        "    endpoints: [{ host: api.github.com, port: 443 }]",
        "    binaries: [{ path: /usr/bin/gh }]",
      ),
    );
    expect(issue).toMatchObject({ line: 6, column: 3, field: "network_policies.github" });
    expect(issue.message).toContain('duplicate key "github"');
  });

  it("YAML syntax error", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1",
        "network_policies:",
        "  api:",
        "    endpoints:",
        "      - host: api.example.com",
        "        port: 443",
        "    binaries: [{ path: /usr/bin/node }",
      ),
    );
    expect(issue.file).toBe("policy.yaml");
    expect(issue.line).toBe(8);
    expect(issue.field).toBe("network_policies.api.binaries[0]");
    expect(issue.message).toMatch(/^YAML syntax error: .*fix the syntax/);
  });

  it("tab indentation", () => {
    const issues = issuesOf(() => parsePolicy("version: 1\nfilesystem_policy:\n\tread_only: [/usr]\n", { file: "t.yaml" }));
    expect(issues[0]).toMatchObject({ file: "t.yaml", line: 3 });
  });

  it("wrong type", () => {
    const issue = onlyIssue(
      yaml(
        "version: 1", //
        "filesystem_policy:",
        "  include_workdir: yes please",
      ),
    );
    expect(issue).toMatchObject({ line: 3, column: 20, field: "filesystem_policy.include_workdir" });
    expect(issue.message).toBe('expected true or false, got "yes please"');
  });

  it("wrong type: a string where a list belongs, with the fix", () => {
    const issue = onlyIssue(yaml("version: 1", "filesystem_policy:", "  read_only: /usr"));
    expect(issue).toMatchObject({ line: 3, column: 14, field: "filesystem_policy.read_only" });
    expect(issue.message).toBe('expected a list, got "/usr"; write a list: `read_only: [/usr]`');
  });

  it("wrong type: a bare binary path", () => {
    const issue = onlyIssue(
      yaml("version: 1", "network_policies:", "  api:", "    endpoints: [{ host: a.example.com, port: 443 }]", "    binaries:", "      - /usr/bin/node"),
    );
    expect(issue).toMatchObject({ line: 6, column: 9, field: "network_policies.api.binaries[0]" });
    expect(issue.message).toContain("write `- { path: /usr/bin/node }`");
  });

  it("wrong type: a port in quotes", () => {
    const issue = onlyIssue(
      yaml("version: 1", "network_policies:", "  api:", "    endpoints:", "      - host: a.example.com", '        port: "443"', "    binaries: [{ path: /usr/bin/node }]"),
    );
    expect(issue).toMatchObject({ line: 6, column: 15, field: "network_policies.api.endpoints[0].port" });
  });

  it("bad enum value lists the choices", () => {
    const issue = onlyIssue(yaml("version: 1", "landlock:", "  compatibility: strict"));
    expect(issue).toMatchObject({ line: 3, column: 18, field: "landlock.compatibility" });
    expect(issue.message).toBe('"strict" is not allowed here; use one of: best_effort, hard_requirement');
  });

  it("bad CIDR", () => {
    const issues = issuesOf(() =>
      parsePolicy(
        yaml(
          "version: 1",
          "network_policies:",
          "  lan:",
          "    endpoints:",
          "      - host: printer.lan",
          "        port: 631",
          "        allowed_ips:",
          "          - 192.168.1.0/33",
          "          - 10.0.0.300",
          "          - 169.254.0.0/16",
          "          - 0.0.0.0/0",
          "    binaries: [{ path: /usr/bin/lp }]",
        ),
        { file: "lan.yaml" },
      ),
    );
    expect(issues.map((i) => [i.line, i.column, i.field])).toEqual([
      [8, 13, "network_policies.lan.endpoints[0].allowed_ips[0]"],
      [9, 13, "network_policies.lan.endpoints[0].allowed_ips[1]"],
      [10, 13, "network_policies.lan.endpoints[0].allowed_ips[2]"],
      [11, 13, "network_policies.lan.endpoints[0].allowed_ips[3]"],
    ]);
    expect(issues[0]?.message).toContain("out of range");
    expect(issues[1]?.message).toContain("not an IP address or CIDR");
    expect(issues[2]?.message).toContain("metadata");
    expect(issues[3]?.message).toContain("every address");
  });

  it("empty values and lists say what to do", () => {
    const issues = issuesOf(() =>
      parsePolicy(
        yaml(
          "version: 1",
          "network_policies:",
          "  api:",
          "    name: ''",
          "    endpoints: [{ host: a.example.com, ports: [] }]",
          "    binaries: [{ path: /usr/bin/node }]",
          "process: { run_as_user: true }",
        ),
        { file: "e.yaml" },
      ),
    );
    expect(issues.map((i) => `${i.line}:${i.column} ${i.field}: ${i.message}`)).toEqual([
      "4:11 network_policies.api.name: value is empty; fill it in or remove the field",
      "5:47 network_policies.api.endpoints[0].ports: ports is empty; list at least one port",
      "7:25 process.run_as_user: expected text or a number, got true",
    ]);
  });

  it("root identity", () => {
    const issue = onlyIssue(yaml("version: 1", "process:", "  run_as_user: sandbox", "  run_as_group: 0"));
    expect(issue).toMatchObject({ line: 4, column: 17, field: "process.run_as_group" });
    expect(issue.message).toContain("never runs as root");
  });

  it("missing version", () => {
    const issue = onlyIssue(yaml("# a policy", "landlock:", "  compatibility: best_effort"));
    expect(issue).toMatchObject({ line: 2, column: 1, field: "(document)" });
    expect(issue.message).toBe('missing required field "version"; add `version: 1` at the top');
  });

  it("wrong version", () => {
    const issue = onlyIssue(yaml("version: 2"));
    expect(issue).toMatchObject({ line: 1, column: 10, field: "version" });
  });

  it("empty file", () => {
    const issue = onlyIssue("# nothing here\n");
    expect(issue).toMatchObject({ line: 1, column: 1, field: "(document)" });
    expect(issue.message).toContain("empty");
  });

  it("more than one document", () => {
    const issue = onlyIssue(yaml("version: 1", "---", "version: 1"));
    expect(issue.line).toBe(2);
    expect(issue.message).toContain("more than one YAML document");
  });

  it("endpoint cross-field rules", () => {
    const issues = issuesOf(() =>
      parsePolicy(
        yaml(
          "version: 1",
          "network_policies:",
          "  api:",
          "    endpoints:",
          "      - host: a.example.com", // 5
          "        port: 443",
          "        ports: [443]",
          "        protocol: rest",
          "        tls: passthrough",
          "        access: full", // 10
          "        rules:",
          "          - allow: { method: get, path: api }",
          "      - protocol: rest", // 13
          "        access: full",
          "    binaries: [{ path: /usr/bin/node }]",
        ),
        { file: "x.yaml" },
      ),
    );
    expect(issues.map((i) => `${i.line}:${i.column} ${i.field}`)).toEqual([
      "7:16 network_policies.api.endpoints[0].ports",
      "9:14 network_policies.api.endpoints[0].tls",
      "10:17 network_policies.api.endpoints[0].access",
      "12:30 network_policies.api.endpoints[0].rules[0].allow.method",
      "12:41 network_policies.api.endpoints[0].rules[0].allow.path",
      "13:9 network_policies.api.endpoints[1]",
      "13:9 network_policies.api.endpoints[1]",
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      "set either port or ports, not both",
      "tls: passthrough relays bytes unread, so protocol rest rules could not be checked; remove one of them",
      "access and rules cannot be combined; keep the preset or list the rules",
      '"get" is not an HTTP method; write it in capitals (GET, POST, …) or "*"',
      'request path "api" must start with /',
      "endpoint has no port; add `port: 443` (or `ports: [...]`)",
      "endpoint has no host; add `host:` (or `allowed_ips:` for an address-only endpoint)",
    ]);
  });

  it("static sections in a preset", () => {
    const issues = issuesOf(() =>
      parsePreset(
        yaml(
          "description: sneaky",
          "filesystem_policy:",
          "  read_write: [/etc]",
          "network_policies:",
          "  x:",
          "    endpoints: [{ host: x.example.com, port: 443 }]",
          "    binaries: [{ path: /usr/bin/node }]",
        ),
        { file: "presets/sneaky.yaml" },
      ),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: "presets/sneaky.yaml", line: 2, column: 1, field: "filesystem_policy" });
    expect(issues[0]?.message).toContain("come from the base policy");
  });

  it("a preset without a description", () => {
    const issues = issuesOf(() =>
      parsePreset(
        yaml("network_policies:", "  x:", "    endpoints: [{ host: x.example.com, port: 443 }]", "    binaries: [{ path: /usr/bin/node }]"),
        { file: "p.yaml" },
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({ line: 1, column: 1, field: "(document)", message: expect.stringContaining("description") }),
    ]);
  });

  it("collects every problem, and format() prints one per line", () => {
    let error: unknown;
    try {
      parsePolicy(
        yaml(
          "version: 1",
          "filesystem_policy:",
          "  read_wirte: [/tmp]",
          "network_policies:",
          "  p:",
          "    endpoints:",
          '      - host: "*.com"',
          "        port: 70000",
          "    binaries: [{ path: /usr/bin/node }]",
        ),
        { file: "many.yaml" },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PolicyError);
    const lines = (error as PolicyError).format().split("\n");
    expect(lines).toEqual([
      'many.yaml:3:3 filesystem_policy.read_wirte: unknown field "read_wirte"; did you mean "read_write"?',
      expect.stringMatching(/^many\.yaml:7:15 network_policies\.p\.endpoints\[0\]\.host: "\*\.com" wildcards over a public suffix/),
      "many.yaml:8:15 network_policies.p.endpoints[0].port: port 70000 is out of range; use a port from 1 to 65535",
    ]);
    expect((error as PolicyError).message).toContain("(and 2 more)");
  });
});

describe("loading files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nemoclaw-policy-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names the file path in errors", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, yaml("version: 1", "landlock:", "  compatibility: maybe"));
    await expect(loadPolicyFile(file)).rejects.toMatchObject({
      issues: [expect.objectContaining({ file, line: 3, column: 18, field: "landlock.compatibility" })],
    });
  });

  it("a missing file is a PolicyError, not a crash", async () => {
    const file = join(dir, "missing.yaml");
    await expect(loadPolicyFile(file)).rejects.toMatchObject({
      issues: [expect.objectContaining({ file, line: 1, column: 1, message: expect.stringContaining("not found") })],
    });
  });
});
