import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CredentialStore } from "../../../blueprint/credentials/store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-cred-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("credential store", () => {
  it("stores 0600 in a 0700 dir, lists without the secret, replaces on re-add, removes", async () => {
    const store = new CredentialStore(path.join(dir, "state"));
    const added = await store.add({ name: "openai", secret: "sk-real-1" });
    expect(added).toMatchObject({ replaced: false, credential: { name: "openai", kind: "openai" } });
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, "state"))).mode & 0o777).toBe(0o700);
    const list = await store.list();
    expect(JSON.stringify(list)).not.toContain("sk-real-1");
    expect(list[0]?.bindings).toEqual([{ in: "header", host: "api.openai.com", port: 443, name: "authorization" }]);
    expect((await store.add({ name: "openai", secret: "sk-real-2" })).replaced).toBe(true);
    expect((await store.get("openai"))?.secret).toBe("sk-real-2");
    await store.remove("openai");
    expect(await store.list()).toEqual([]);
    await expect(store.remove("openai")).rejects.toMatchObject({ code: "credential-not-found" });
    expect((await readdir(path.join(dir, "state"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("sees a change made by another process (another store object) on the next read", async () => {
    const a = new CredentialStore(dir);
    const b = new CredentialStore(dir);
    await a.add({ name: "nvidia", secret: "nvapi-1" });
    expect((await b.get("nvidia"))?.secret).toBe("nvapi-1");
    await a.add({ name: "nvidia", secret: "nvapi-2" });
    expect((await b.get("nvidia"))?.secret).toBe("nvapi-2");
  });

  it("keeps a sandbox's placeholder index while the file is unchanged and drops a credential removed by another process", async () => {
    const proxy = new CredentialStore(dir);
    const cli = new CredentialStore(dir);
    expect(await proxy.list()).toEqual([]);
    expect((await proxy.placeholderIndex("alpha")).pattern).toBeUndefined();
    expect(await readdir(dir)).toEqual([]); // listing none or indexing none writes no file (no placeholder key made for nothing)
    await cli.add({ name: "openai", secret: "sk-one" });
    await cli.add({ name: "nvidia", secret: "nvapi-two" });
    const first = await proxy.placeholderIndex("alpha");
    expect([...first.byPlaceholder.values()].map((c) => c.name).sort()).toEqual(["nvidia", "openai"]);
    expect(await proxy.placeholderIndex("alpha")).toBe(first);
    expect(await proxy.placeholderIndex("beta")).not.toBe(first);
    await cli.remove("openai");
    const after = await proxy.placeholderIndex("alpha");
    expect([...after.byPlaceholder.values()].map((c) => c.name)).toEqual(["nvidia"]);
    expect(after.byPlaceholder.has(await cli.placeholder("alpha", "nvidia"))).toBe(true);
  });

  it("a store whose file cannot be looked at is an error, not an empty store (the proxy fails closed on it)", async () => {
    const notADir = path.join(dir, "state");
    await writeFile(notADir, "a file where the state dir should be");
    const store = new CredentialStore(notADir);
    await expect(store.list()).rejects.toThrow(/ENOTDIR/);
    await expect(store.placeholderIndex("alpha")).rejects.toThrow(/ENOTDIR/);
  });

  it.each([
    [{ name: "Bad Name", secret: "x" }, /name: a credential name is/],
    [{ name: "mine", secret: "x" }, /"mine" is not a credential kind/],
    [{ name: "openai", secret: "two words" }, /secret: a secret is one line/],
    [{ name: "openai", secret: "a\r\nx-evil: 1" }, /secret: a secret is one line/],
    [{ name: "t", kind: "telegram-bot", secret: "1:A", bindings: [{ in: "path", host: "http://x" }] }, /bindings\.0\.host/],
  ] as const)("refuses bad input with a message that says what to fix: %j", async (input, message) => {
    const store = new CredentialStore(dir);
    await expect(store.add(input as never)).rejects.toMatchObject({ code: "invalid-credential", message: expect.stringMatching(message) });
    expect(await store.list()).toEqual([]);
  });

  it("a corrupted file is moved aside and the error says what to do", async () => {
    await writeFile(path.join(dir, "credentials.json"), "{not json", { mode: 0o600 });
    const store = new CredentialStore(dir);
    const err = (await store.list().catch((e: unknown) => e)) as { code: string; message: string; hint: string };
    expect(err.code).toBe("state-corrupt");
    expect(err.hint).toMatch(/credentials add/);
    expect((await readdir(dir)).some((f) => f.startsWith("credentials.json.corrupt-"))).toBe(true);
  });

  it("placeholders: stable per (sandbox, credential), different across sandboxes, key persisted, never the secret", async () => {
    const store = new CredentialStore(dir);
    await store.add({ name: "slack-bot", secret: "xoxb-real-token-value" });
    const p1 = await store.placeholder("alpha", "slack-bot");
    expect(await new CredentialStore(dir).placeholder("alpha", "slack-bot")).toBe(p1);
    expect(await store.placeholder("beta", "slack-bot")).not.toBe(p1);
    expect(p1).not.toContain("real");
    const file = JSON.parse(await readFile(store.file, "utf8")) as { placeholderKey: string };
    expect(file.placeholderKey).toMatch(/^[0-9a-f]{64}$/);
    const index = await store.placeholderIndex("alpha");
    expect(index.byPlaceholder.get(p1)?.secret).toBe("xoxb-real-token-value");
  });
});
