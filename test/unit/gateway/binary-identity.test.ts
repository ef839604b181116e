import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BinaryPins } from "../../../blueprint/gateway/binary-pins.js";
import type { Caller } from "../../../blueprint/gateway/caller.js";
import { escapeGlob, pathMatches } from "../../../blueprint/gateway/globs.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-pins-"));
  dirs.push(d);
  return d;
}
const caller = (exe: string, sha: string): Caller => ({ pid: 9, exe, sha256: sha.repeat(64), ancestors: ["/usr/bin/dash"], unidentified: null });

describe("escapeGlob", () => {
  it.each(["/sandbox/*", "/sandbox/**", "/sandbox/a*b", "/sandbox/back\\slash", "/sandbox/\\*", "/usr/bin/curl"])("%j matches exactly itself", (name) => {
    const glob = escapeGlob(name);
    expect(pathMatches(glob, name)).toBe(true);
    expect(pathMatches(glob, "/sandbox/other")).toBe(false);
    expect(pathMatches(glob, "/sandbox/x/y")).toBe(false);
  });

  it("leaves plain paths as they are and still lets unescaped globs wildcard", () => {
    expect(escapeGlob("/usr/bin/python3.12")).toBe("/usr/bin/python3.12");
    expect(escapeGlob("/sandbox/*")).toBe("/sandbox/\\*");
    expect(pathMatches("/sandbox/*", "/sandbox/other")).toBe(true);
  });
});

describe("binary pins (trust on first use)", () => {
  it("pins a path on first use, refuses a different file there later, and persists atomically (0600)", async () => {
    const dir = await tmp();
    const pins = await BinaryPins.open(dir);
    expect(pins.vet(caller("/sandbox/tool", "a"))).toMatchObject({ exe: "/sandbox/tool", unidentified: null });
    expect(pins.vet(caller("/sandbox/tool", "a")).exe).toBe("/sandbox/tool");
    const swapped = pins.vet(caller("/sandbox/tool", "b"));
    expect(swapped).toMatchObject({ exe: null, sha256: null, pid: 9, ancestors: ["/usr/bin/dash"] });
    expect(swapped.unidentified).toMatch(/\/sandbox\/tool \(pid 9\) is not the file first seen at that path: sha256 bbbb.* now, aaaa.* pinned on first use/);
    await pins.flushed();
    const file = path.join(dir, "binaries.json");
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ version: 1, pins: { "/sandbox/tool": "a".repeat(64) } });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // A gateway restart keeps the pin.
    const again = await BinaryPins.open(dir);
    expect(again.vet(caller("/sandbox/tool", "b")).exe).toBeNull();
  });

  it("a copy of a pinned binary at another path is pinned on its own, by its own path", async () => {
    const pins = await BinaryPins.open(await tmp());
    pins.vet(caller("/usr/bin/curl", "c"));
    expect(pins.vet(caller("/sandbox/curl", "c"))).toMatchObject({ exe: "/sandbox/curl" });
    expect(pins.get("/sandbox/curl")).toBe("c".repeat(64));
    // Its write must end before afterEach removes the dir (an rmdir racing it fails ENOTEMPTY).
    await pins.flushed();
  });

  it("passes unidentified callers through untouched", async () => {
    const pins = await BinaryPins.open(await tmp());
    const nobody: Caller = { pid: null, exe: null, sha256: null, ancestors: [], unidentified: "no holder" };
    expect(pins.vet(nobody)).toBe(nobody);
  });
});
