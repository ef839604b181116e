import { describe, expect, it } from "vitest";
import { PolicyEngine } from "../../../blueprint/gateway/policy-engine.js";
import type { Caller } from "../../../blueprint/gateway/caller.js";
import { hostMatches, pathMatches } from "../../../blueprint/gateway/globs.js";
import { parsePolicy } from "../../../blueprint/policy/load.js";

const sha = "a".repeat(64);
const curl: Caller = { pid: 64, exe: "/usr/bin/curl", sha256: sha, ancestors: ["/usr/bin/bash"], unidentified: null };
const nodeUnderGit: Caller = { pid: 9, exe: "/usr/local/bin/node", sha256: sha, ancestors: ["/usr/bin/bash", "/usr/bin/git"], unidentified: null };
const git: Caller = { pid: 8, exe: "/usr/bin/git", sha256: sha, ancestors: ["/usr/bin/bash"], unidentified: null };
const python: Caller = { pid: 7, exe: "/usr/bin/python3.12", sha256: sha, ancestors: [], unidentified: null };
const nobody: Caller = { pid: null, exe: null, sha256: null, ancestors: [], unidentified: "holders disagree" };

const engine = new PolicyEngine(
  parsePolicy(`
version: 1
network_policies:
  exact:
    endpoints:
      - { host: api.example.com, port: 443 }
      - { host: api.example.com, ports: [8080, 8443] }
    binaries: [{ path: /usr/bin/curl }]
  wild:
    endpoints:
      - { host: "*.cdn.example.com", port: 443 }
      - { host: "**.deep.example.com", port: 443 }
      - { host: "api-*.example.org", port: 443 }
    binaries: [{ path: "/usr/bin/python3*" }]
  by_ancestor:
    endpoints:
      - { host: git.example.com, port: 443 }
    binaries: [{ path: /usr/bin/git }]
  ro:
    endpoints:
      - { host: ro.example.com, port: 443, protocol: rest, enforcement: enforce, access: read-only }
      - { host: rw.example.com, port: 443, protocol: rest, enforcement: enforce, access: read-write }
      - { host: full.example.com, port: 443, protocol: rest, enforcement: enforce, access: full }
    binaries: [{ path: /usr/bin/curl }]
  rules:
    endpoints:
      - host: gh.example.com
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/**" }
          - allow: { method: POST, path: "/repos/*/*/issues" }
          - allow: { method: GET, path: "/search", query: { per_page: "1*", q: { any: ["a*", "b*"] } } }
        deny_rules:
          - { method: "*", path: "/repos/*/*/hooks/**" }
          - { method: GET, path: "/admin" }
      - host: audit.example.com
        port: 443
        protocol: rest
        enforcement: audit
        access: read-only
      - host: slash.example.com
        port: 443
        protocol: rest
        enforcement: enforce
        access: full
        allow_encoded_slash: true
    binaries: [{ path: /usr/bin/curl }]
  unenforced:
    endpoints:
      - { host: gql.example.com, port: 443, protocol: graphql, enforcement: enforce, access: read-only }
      - { host: cred.example.com, port: 443, credential_binding: { name: x } }
      - { host: ws.example.com, port: 443, protocol: websocket, access: full }
    binaries: [{ path: /usr/bin/curl }]
  ip_only:
    endpoints:
      - { allowed_ips: [203.0.113.0/24], port: 443 }
    binaries: [{ path: /usr/bin/curl }]
`).policy,
);

function decide(host: string, port: number, caller: Caller, method?: string, target?: string) {
  return engine.decide({ host, port, caller, ...(method === undefined ? {} : { http: { method, target: target ?? "/" } }) });
}

describe("globs", () => {
  it.each([
    ["/**", "/", true], ["/**", "/a/b", true], ["/v1/**", "/v1", true], ["/v1/**", "/v1x", false],
    ["/repos/*/*/issues", "/repos/a/b/issues", true], ["/repos/*/*/issues", "/repos/a/b/c/issues", false],
    ["/**/git-upload-pack", "/o/r.git/git-upload-pack", true], ["/**/git-upload-pack", "/git-upload-pack", true],
    ["/usr/bin/python3*", "/usr/bin/python3.12", true], ["/usr/bin/python3*", "/usr/bin/python3/x", false],
    ["/a.b", "/aXb", false], ["/a(b)", "/a(b)", true],
  ])("path %s vs %s → %s", (glob, path, expected) => {
    expect(pathMatches(glob, path)).toBe(expected);
  });
  it.each([
    ["*.example.com", "a.example.com", true], ["*.example.com", "a.b.example.com", false], ["*.example.com", "example.com", false],
    ["**.example.com", "a.b.example.com", true], ["**.example.com", "example.com", false], ["**.example.com", "aexample.com", false],
    ["api-*.example.org", "api-eu.example.org", true], ["api-*.example.org", "web.example.org", false],
    ["api.example.com", "api.example.com", true], ["API.example.com", "api.example.com", true], ["api.example.com", "api.example.com.evil", false],
  ])("host %s vs %s → %s", (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected);
  });
});

describe("connection decisions", () => {
  it.each([
    ["api.example.com", 443, curl, "allow", "exact"],
    ["API.Example.COM.", 443, curl, "allow", "exact"],
    ["api.example.com", 8443, curl, "allow", "exact"],
    ["api.example.com", 444, curl, "ask", null],
    ["evil.com", 443, curl, "ask", null],
    ["a.cdn.example.com", 443, python, "allow", "wild"],
    ["a.b.cdn.example.com", 443, python, "ask", null],
    ["x.y.deep.example.com", 443, python, "allow", "wild"],
    ["deep.example.com", 443, python, "ask", null],
    ["api-eu.example.org", 443, python, "allow", "wild"],
    ["a.cdn.example.com", 443, curl, "deny", "wild"],
    ["git.example.com", 443, git, "allow", "by_ancestor"],
    // A program started by an allowed binary is not that binary: ancestors are never matched.
    ["git.example.com", 443, nodeUnderGit, "deny", "by_ancestor"],
    ["git.example.com", 443, curl, "deny", "by_ancestor"],
    ["api.example.com", 443, nobody, "deny", "exact"],
    ["203.0.113.9", 443, curl, "allow", "ip_only"],
    ["::ffff:203.0.113.9", 443, curl, "allow", "ip_only"],
    ["203.0.114.9", 443, curl, "ask", null],
    ["bad host", 443, curl, "deny", null],
  ] as const)("%s:%s by %o → %s (%s)", (host, port, caller, action, policyKey) => {
    const d = decide(host, port, caller);
    expect(d.action).toBe(action);
    expect(d.rule?.policy ?? null).toBe(policyKey);
    expect(d.reason.length).toBeGreaterThan(0);
  });

  it("says why an unidentified caller is unidentified, and that ancestors are not matched", () => {
    expect(decide("api.example.com", 443, nobody).reason).toMatch(/an unidentified process \(holders disagree\) is not in the binaries/);
    expect(decide("git.example.com", 443, nodeUnderGit).reason).toMatch(/\/usr\/local\/bin\/node \(started by \/usr\/bin\/bash < \/usr\/bin\/git; ancestors are not matched\)/);
  });

  it("names the binary and policy when a binary is not listed", () => {
    const d = decide("a.cdn.example.com", 443, curl);
    expect(d.reason).toMatch(/\/usr\/bin\/curl .*not in the binaries of network policy wild/);
  });

  it("fails closed on endpoints it cannot enforce", () => {
    expect(decide("gql.example.com", 443, curl)).toMatchObject({ action: "deny", reason: expect.stringMatching(/graphql.*not enforced/) });
    expect(decide("cred.example.com", 443, curl)).toMatchObject({ action: "deny", reason: expect.stringMatching(/credential_binding/) });
    // access: full with nothing to inspect can be enforced: it is a plain tunnel.
    expect(decide("ws.example.com", 443, curl)).toMatchObject({ action: "allow", inspect: false });
  });

  it("marks rest endpoints for inspection and plain ones as tunnels", () => {
    expect(decide("ro.example.com", 443, curl)).toMatchObject({ action: "allow", inspect: true });
    expect(decide("api.example.com", 443, curl)).toMatchObject({ action: "allow", inspect: false });
  });
});

describe("request decisions", () => {
  it.each([
    ["ro.example.com", "GET", "/x", "allow"], ["ro.example.com", "HEAD", "/x", "allow"], ["ro.example.com", "OPTIONS", "/x", "allow"],
    ["ro.example.com", "POST", "/x", "deny"], ["ro.example.com", "DELETE", "/x", "deny"],
    ["rw.example.com", "POST", "/x", "allow"], ["rw.example.com", "DELETE", "/x", "allow"], ["rw.example.com", "PATCH", "/x", "allow"],
    ["rw.example.com", "TRACE", "/x", "deny"], ["rw.example.com", "CONNECT", "/x", "deny"],
    ["full.example.com", "TRACE", "/x", "allow"],
    ["gh.example.com", "GET", "/repos/a/b", "allow"],
    ["gh.example.com", "POST", "/repos/a/b/issues", "allow"],
    ["gh.example.com", "POST", "/repos/a/b/pulls", "deny"],
    ["gh.example.com", "GET", "/repos/a/b/hooks/1", "deny"],
    ["gh.example.com", "GET", "/REPOS/a/b/HOOKS/1", "deny"],
    ["gh.example.com", "GET", "/admin", "deny"],
    ["gh.example.com", "get", "/repos/a/b", "deny"],
    ["gh.example.com", "GET", "/search?per_page=10&q=abc", "allow"],
    ["gh.example.com", "GET", "/search?per_page=10&q=zzz", "allow"],
  ] as const)("%s %s %s → %s", (host, method, target, action) => {
    expect(decide(host, 443, curl, method, target).action).toBe(action);
  });

  it("query globs: every occurrence must match", () => {
    const rules = new PolicyEngine(
      parsePolicy(`
version: 1
network_policies:
  q:
    endpoints:
      - host: q.example.com
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: /search, query: { per_page: "1*", q: { any: ["a*", "b*"] } } }
    binaries: [{ path: /usr/bin/curl }]
`).policy,
    );
    const at = (target: string) => rules.decide({ host: "q.example.com", port: 443, caller: curl, http: { method: "GET", target } }).action;
    expect(at("/search?per_page=10&q=apple")).toBe("allow");
    expect(at("/search?per_page=10&q=banana")).toBe("allow");
    expect(at("/search?per_page=10&q=cherry")).toBe("deny");
    expect(at("/search?per_page=50&q=apple")).toBe("deny");
    expect(at("/search?q=apple")).toBe("deny");
    expect(at("/search?per_page=10&q=apple&q=cherry")).toBe("deny");
    expect(at("/search?per_page=1%30&q=a%20b")).toBe("allow");
  });

  it.each([
    ["/repos/a/b/../b/hooks/1", /dot segment/],
    ["/repos/a/b/%2e%2e/b/hooks", /dot segment/],
    ["/repos/a/b/%2E%2E/b/hooks", /dot segment/],
    ["/repos/a/b/..;/hooks", /dot segment/],
    ["/repos/a/b/./hooks", /dot segment/],
    ["/repos/a%2fb/hooks", /encoded slash/],
    ["/repos/a%252fb/x", /twice/],
    ["/repos/%252e%252e/x", /twice/],
    ["/repos//a/b", /empty segment/],
    ["/repos/a\\b", /backslash/],
    ["/repos/a%5cb", /backslash/],
    ["/repos/%00", /control/],
    ["/repos/%ff", /UTF-8/],
    ["/repos/%zz", /percent/],
  ])("refuses path trick %s", (target, reason) => {
    const d = decide("gh.example.com", 443, curl, "GET", target);
    expect(d.action).toBe("deny");
    expect(d.reason).toMatch(reason);
  });

  it("allows encoded slashes only where allow_encoded_slash is set", () => {
    expect(decide("slash.example.com", 443, curl, "GET", "/a%2Fb").action).toBe("allow");
    expect(decide("full.example.com", 443, curl, "GET", "/a%2Fb").action).toBe("deny");
  });

  it("decodes before matching, so encoding cannot dodge a deny rule", () => {
    expect(decide("gh.example.com", 443, curl, "GET", "/repos/a/b/%68ooks/1").action).toBe("deny");
    expect(decide("gh.example.com", 443, curl, "GET", "/%61dmin").action).toBe("deny");
  });

  it("unset enforcement enforces (unlike OpenShell's audit default): a violation is denied", () => {
    const unset = new PolicyEngine(
      parsePolicy(`
version: 1
network_policies:
  p:
    endpoints:
      - { host: quiet.example.com, port: 443, protocol: rest, access: read-only }
    binaries: [{ path: /usr/bin/curl }]
`).policy,
    );
    expect(unset.decide({ host: "quiet.example.com", port: 443, caller: curl, http: { method: "POST", target: "/x" } })).toMatchObject({ action: "deny", audit: false });
    expect(unset.decide({ host: "quiet.example.com", port: 443, caller: curl, http: { method: "GET", target: "/x" } }).action).toBe("allow");
  });

  it("enforcement audit logs the violation but allows it", () => {
    const d = decide("audit.example.com", 443, curl, "POST", "/x");
    expect(d).toMatchObject({ action: "allow", audit: true, rule: { policy: "rules", endpoint: 1 } });
    expect(d.reason).toMatch(/^audit only: access read-only does not allow POST/);
    // a path we refuse to read is not a rule violation: denied even in audit mode
    expect(decide("audit.example.com", 443, curl, "GET", "/a/../b").action).toBe("deny");
  });

  it("every decision carries action, rule and reason", () => {
    const d = decide("gh.example.com", 443, curl, "POST", "/repos/a/b/pulls");
    expect(d).toMatchObject({ action: "deny", rule: { policy: "rules", endpoint: 0 }, reason: "no rule allows POST /repos/a/b/pulls" });
  });
});
