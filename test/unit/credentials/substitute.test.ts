import { describe, expect, it } from "vitest";
import type { Binding } from "../../../blueprint/credentials/schema.js";
import { buildPlaceholderIndex, findPlaceholders, substitute } from "../../../blueprint/credentials/substitute.js";

const TG_PH = "1234567890:AAplaceholderplaceholderplacehold";
const TG_REAL = "987654321:AAreal_token-value";
const GH_PH = "ghp_PLACEHOLDERplaceholder0123456789ab";
const GH_REAL = "ghp_realrealrealrealrealrealrealrealre";
const BRAVE_PH = "BSAplaceholder000000000000000";
const BRAVE_REAL = "BSArealbrave";

const bindings: Record<string, Binding[]> = {
  telegram: [{ in: "path", host: "api.telegram.org", port: 443, prefix: "bot" }],
  github: [
    { in: "header", host: "api.github.com", port: 443, name: "authorization" },
    { in: "header", host: "github.com", port: 443, name: "authorization" },
  ],
  brave: [{ in: "query", host: "*.brave.com", port: 443, name: "token" }],
};
const index = buildPlaceholderIndex("sb", [
  { name: "telegram", placeholder: TG_PH, secret: TG_REAL, bindings: bindings.telegram ?? [] },
  { name: "github", placeholder: GH_PH, secret: GH_REAL, bindings: bindings.github ?? [] },
  { name: "brave", placeholder: BRAVE_PH, secret: BRAVE_REAL, bindings: bindings.brave ?? [] },
]);

describe("findPlaceholders", () => {
  it("finds each occurrence with its credential and offset", () => {
    const text = `a ${GH_PH} b ${TG_PH}${GH_PH}`;
    expect(findPlaceholders(index, text)).toEqual([
      { credential: "github", placeholder: GH_PH, index: 2 },
      { credential: "telegram", placeholder: TG_PH, index: 2 + GH_PH.length + 3 },
      { credential: "github", placeholder: GH_PH, index: 2 + GH_PH.length + 3 + TG_PH.length },
    ]);
    expect(findPlaceholders(index, "nothing here")).toEqual([]);
    expect(findPlaceholders(buildPlaceholderIndex("x", []), GH_PH)).toEqual([]);
  });
});

describe("substitute", () => {
  it("Telegram: the token as the /bot<token>/ path segment on api.telegram.org:443", () => {
    const r = substitute(index, { target: `/bot${TG_PH}/getMe?x=1`, headers: { host: "api.telegram.org" } }, { host: "api.telegram.org", port: 443 });
    expect(r).toEqual({ ok: true, request: { target: `/bot${TG_REAL}/getMe?x=1`, headers: { host: "api.telegram.org" } }, substituted: [{ credential: "telegram", where: "URL path" }] });
  });

  it("GitHub: Bearer header, and inside Basic credentials (git over HTTPS)", () => {
    const bearer = substitute(index, { target: "/user", headers: { authorization: `Bearer ${GH_PH}` } }, { host: "api.github.com", port: 443 });
    expect(bearer).toMatchObject({ ok: true, request: { headers: { authorization: `Bearer ${GH_REAL}` } } });
    const basic = Buffer.from(`x-access-token:${GH_PH}`).toString("base64");
    const r = substitute(index, { target: "/o/r.git/info/refs", headers: { Authorization: `Basic ${basic}` } }, { host: "github.com", port: 443 });
    expect(r.ok).toBe(true);
    const sent = r.ok ? String(r.request.headers.Authorization) : "";
    expect(Buffer.from(sent.replace("Basic ", ""), "base64").toString()).toBe(`x-access-token:${GH_REAL}`);
  });

  it("query binding with a wildcard host", () => {
    const r = substitute(index, { target: `/res/v1/web/search?q=x&token=${BRAVE_PH}`, headers: {} }, { host: "api.search.brave.com", port: 443 });
    expect(r).toMatchObject({ ok: true, request: { target: `/res/v1/web/search?q=x&token=${BRAVE_REAL}` } });
  });

  it("leaves a request without placeholders alone", () => {
    const r = substitute(index, { target: "/x?y=1", headers: { a: "b", c: ["d", "e"] } }, { host: "example.com", port: 443 });
    expect(r).toEqual({ ok: true, request: { target: "/x?y=1", headers: { a: "b", c: ["d", "e"] } }, substituted: [] });
  });

  it.each([
    ["an unbound host", { target: "/user", headers: { authorization: `Bearer ${GH_PH}` } }, { host: "evil.example", port: 443 }, "github", "header authorization"],
    ["the bound host on another port", { target: "/user", headers: { authorization: `Bearer ${GH_PH}` } }, { host: "api.github.com", port: 8443 }, "github", "header authorization"],
    ["the bound host in another header", { target: "/user", headers: { "x-leak": GH_PH } }, { host: "api.github.com", port: 443 }, "github", "header x-leak"],
    ["the bound host in the path instead of a header", { target: `/repos/${GH_PH}`, headers: {} }, { host: "api.github.com", port: 443 }, "github", "URL path"],
    ["Telegram's token not as its own bot segment", { target: `/x/bot${TG_PH}x/getMe`, headers: {} }, { host: "api.telegram.org", port: 443 }, "telegram", "URL path"],
    ["Telegram's token in a query", { target: `/botX/getMe?t=${TG_PH}`, headers: {} }, { host: "api.telegram.org", port: 443 }, "telegram", "query parameter t"],
    ["the bare domain for a *. binding", { target: `/?token=${BRAVE_PH}`, headers: {} }, { host: "brave.com", port: 443 }, "brave", "query parameter token"],
    ["a placeholder in a parameter's name", { target: `/?${BRAVE_PH}=1`, headers: {} }, { host: "api.search.brave.com", port: 443 }, "brave", "query parameter "],
    ["one good and one bad placeholder", { target: `/bot${TG_PH}/send`, headers: { "x-gh": GH_PH } }, { host: "api.telegram.org", port: 443 }, "github", "header x-gh"],
  ] as const)("refuses a placeholder sent to %s (credential_endpoint_mismatch)", (_, request, destination, credential, where) => {
    expect(substitute(index, request, destination)).toEqual({
      ok: false,
      reason: "credential_endpoint_mismatch",
      credential,
      where,
      destination: `${destination.host}:${destination.port}`,
    });
  });
});
