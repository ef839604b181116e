import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CredentialStore } from "../../../blueprint/credentials/store.js";
import { checkUpstreamAddress, routeFile, RouteStore } from "../../../blueprint/inference/route.js";

let dir: string;
let routes: RouteStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-route-"));
  routes = new RouteStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("routes", () => {
  it("loopback servers need nothing (Ollama at 127.0.0.1:11434 by default); the file is 0600", async () => {
    const { route, warnings } = await routes.set("sb", { provider: "ollama", model: "qwen3:8b" });
    expect(route).toMatchObject({ provider: "ollama", model: "qwen3:8b" });
    expect(warnings).toEqual([]);
    expect(await routes.get("sb")).toEqual(route);
    expect((await stat(routeFile(dir, "sb"))).mode & 0o777).toBe(0o600);
    await routes.set("sb", { provider: "llamacpp", model: "x", baseUrl: "http://[::1]:8080/v1/" });
    expect((await routes.get("sb"))?.baseUrl).toBe("http://[::1]:8080/v1");
  });

  it("a provider that needs a key needs the credential stored, and the error says how", async () => {
    await expect(routes.set("sb", { provider: "openai", model: "gpt-5" })).rejects.toMatchObject({
      code: "credential-not-found",
      hint: expect.stringContaining("credentials add openai --from-env OPENAI_API_KEY"),
    });
    await new CredentialStore(dir).add({ name: "openai", secret: "sk-1" });
    await expect(routes.set("sb", { provider: "openai", model: "gpt-5" })).resolves.toMatchObject({ route: { provider: "openai" } });
    await new CredentialStore(dir).add({ name: "mine", kind: "brave", secret: "BSA1" });
    expect((await routes.set("sb", { provider: "openai", model: "gpt-5", credential: "mine" })).warnings).toEqual(['the credential "mine" is a brave credential, not openai']);
  });

  it.each([
    [{ provider: "openai-compatible", model: "m" }, "route-invalid", /no default address/],
    [{ provider: "nope", model: "m" }, "route-invalid", /the provider is one of/],
    [{ provider: "ollama", model: "http://evil/x" }, "route-invalid", /not a URL/],
    [{ provider: "ollama", model: "two words" }, "route-invalid", /no spaces/],
    [{ provider: "vllm", model: "m", baseUrl: "ftp://127.0.0.1/v1" }, "route-invalid", /http or https/],
    [{ provider: "vllm", model: "m", baseUrl: "http://user:pw@127.0.0.1/v1" }, "route-invalid", /carries credentials/],
    [{ provider: "vllm", model: "m", baseUrl: "http://127.0.0.1/v1?key=1" }, "route-invalid", /query or fragment/],
    [{ provider: "vllm", model: "m", baseUrl: "http://10.1.2.3:8000/v1" }, "route-address-blocked", /private; set the route again with --allow-private/],
    [{ provider: "vllm", model: "m", baseUrl: "http://169.254.169.254/v1", allowPrivate: true }, "route-address-blocked", /cloud metadata/],
    [{ provider: "vllm", model: "m", baseUrl: "http://[::ffff:169.254.169.254]/v1", allowPrivate: true }, "route-address-blocked", /cloud metadata/],
  ] as const)("refuses %j", async (input, code, message) => {
    await expect(routes.set("sb", input as never)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(await routes.get("sb")).toBeUndefined();
  });

  it("a private address is accepted with allowPrivate", async () => {
    await expect(routes.set("sb", { provider: "vllm", model: "m", baseUrl: "http://192.168.1.20:8000/v1", allowPrivate: true })).resolves.toBeDefined();
  });

  it("refuses a sandbox name that is not one", async () => {
    await expect(routes.set("../x", { provider: "ollama", model: "m" })).rejects.toMatchObject({ code: "invalid-sandbox-name" });
  });

  it("a corrupt route file is an error naming the fix, and is moved aside", async () => {
    await routes.set("sb", { provider: "ollama", model: "m" });
    await writeFile(routeFile(dir, "sb"), '{"version":1}');
    await expect(routes.get("sb")).rejects.toMatchObject({ code: "state-corrupt", hint: expect.stringContaining("openclaw nemoclaw sb inference set") });
    expect(await routes.get("sb")).toBeUndefined();
  });

  it("checkUpstreamAddress: loopback yes, private only when allowed, metadata never", () => {
    expect(checkUpstreamAddress("127.0.0.1", false)).toEqual({ ok: true });
    expect(checkUpstreamAddress("::1", false)).toEqual({ ok: true });
    expect(checkUpstreamAddress("8.8.8.8", false)).toEqual({ ok: true });
    expect(checkUpstreamAddress("10.0.0.1", false).ok).toBe(false);
    expect(checkUpstreamAddress("10.0.0.1", true).ok).toBe(true);
    expect(checkUpstreamAddress("fe80::1", false).ok).toBe(false);
    expect(checkUpstreamAddress("169.254.169.254", true).ok).toBe(false);
  });
});
