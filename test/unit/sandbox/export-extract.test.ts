// eject --export's unpacking of /sandbox's archive, fed hostile archives of the shape the Engine
// API returns (`sandbox/…` entries): nothing lands outside DIR, no link is followed or made,
// no setuid bit survives, and an existing folder with content is refused.
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tarStream from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportSandboxData, safeRelative } from "../../../blueprint/sandbox/export.js";

type Entry = { name: string; type?: "file" | "directory" | "symlink" | "link" | "fifo"; body?: string; mode?: number; linkname?: string };

/** Something that answers getArchive like a container, with the given entries. */
function archiveOf(entries: Entry[]) {
  return {
    getArchive: async () => {
      const pack = tarStream.pack();
      for (const e of entries) pack.entry({ name: e.name, type: e.type ?? "file", mode: e.mode ?? 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? "");
      pack.finalize();
      return pack as unknown as NodeJS.ReadableStream;
    },
  } as unknown as Parameters<typeof exportSandboxData>[0];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "export-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("safeRelative", () => {
  it("keeps paths below sandbox/ and refuses everything else", () => {
    expect(safeRelative("sandbox/")).toBe("");
    expect(safeRelative("sandbox/a/b.txt")).toBe("a/b.txt");
    expect(safeRelative("sandbox/./a//b")).toBe("a/b");
    expect(safeRelative("sandbox/../etc/passwd")).toBeUndefined();
    expect(safeRelative("sandbox/a/../../x")).toBeUndefined();
    expect(safeRelative("/etc/passwd")).toBeUndefined();
    expect(safeRelative("other/x")).toBeUndefined();
  });
});

describe("exportSandboxData", () => {
  it("copies files and folders, and refuses escapes, links and special bits", async () => {
    const outside = path.join(dir, "outside.txt");
    const target = path.join(dir, "out");
    const r = await exportSandboxData(
      archiveOf([
        { name: "sandbox/", type: "directory", mode: 0o750 },
        { name: "sandbox/workspace/", type: "directory", mode: 0o755 },
        { name: "sandbox/workspace/notes.md", body: "hello\n" },
        { name: "sandbox/run.sh", body: "#!/bin/sh\n", mode: 0o4755 },
        { name: "sandbox/../outside.txt", body: "escaped" },
        { name: "sandbox/evil", type: "symlink", linkname: "/etc" },
        // A file "through" the symlink: must not follow it (the link was never made).
        { name: "sandbox/evil/passwd", body: "pwned" },
        { name: "sandbox/hard", type: "link", linkname: "sandbox/workspace/notes.md" },
        { name: "sandbox/hard-out", type: "link", linkname: "/etc/passwd" },
        { name: "sandbox/fifo", type: "fifo" },
      ]),
      target,
    );
    expect(await readFile(path.join(target, "workspace/notes.md"), "utf8")).toBe("hello\n");
    expect(await readFile(path.join(target, "hard"), "utf8")).toBe("hello\n");
    expect((await stat(path.join(target, "run.sh"))).mode & 0o7777).toBe(0o755);
    await expect(stat(outside)).rejects.toThrow();
    expect((await lstat(path.join(target, "evil"))).isDirectory()).toBe(true);
    expect(await readFile(path.join(target, "evil/passwd"), "utf8")).toBe("pwned");
    expect(await readFile("/etc/passwd", "utf8")).not.toContain("pwned");
    expect(r.skipped.map((s) => s.path).sort()).toEqual(["evil", "fifo", "hard-out", "sandbox/../outside.txt"]);
    expect(r.files).toBe(4);
    expect((await stat(target)).uid).toBe(process.getuid?.());
  });

  it("never writes over an existing folder's content, and refuses a symlinked target", async () => {
    const full = path.join(dir, "full");
    await mkdir(full);
    await writeFile(path.join(full, "keep.txt"), "mine");
    await expect(exportSandboxData(archiveOf([{ name: "sandbox/keep.txt", body: "theirs" }]), full)).rejects.toThrow(/not empty/);
    expect(await readFile(path.join(full, "keep.txt"), "utf8")).toBe("mine");
    const link = path.join(dir, "link");
    await import("node:fs/promises").then((fs) => fs.symlink(full, link));
    await expect(exportSandboxData(archiveOf([{ name: "sandbox/x", body: "x" }]), link)).rejects.toThrow(/not a directory/);
    expect(await readdir(full)).toEqual(["keep.txt"]);
  });

  it("leaves out the gateway's compile cache, and says so once", async () => {
    const target = path.join(dir, "cache");
    const r = await exportSandboxData(
      archiveOf([
        { name: "sandbox/.cache/", type: "directory" },
        { name: "sandbox/.cache/openclaw-compile-cache/", type: "directory" },
        { name: "sandbox/.cache/openclaw-compile-cache/openclaw/v/a.bin", body: "code" },
        { name: "sandbox/.cache/other.txt", body: "kept" },
      ]),
      target,
    );
    expect(r.skipped).toEqual([{ path: ".cache/openclaw-compile-cache", why: expect.stringContaining("compile cache") }]);
    expect(await readFile(path.join(target, ".cache/other.txt"), "utf8")).toBe("kept");
    expect(await readdir(path.join(target, ".cache"))).toEqual(["other.txt"]);
  });

  it("a duplicate entry cannot replace a file already written", async () => {
    const target = path.join(dir, "dup");
    await expect(
      exportSandboxData(archiveOf([{ name: "sandbox/a", body: "one" }, { name: "sandbox/a", body: "two" }]), target),
    ).rejects.toThrow(/appears twice/);
    expect(await readFile(path.join(target, "a"), "utf8")).toBe("one");
  });
});

