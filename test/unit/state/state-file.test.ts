import { Volume, createFsFromVolume } from "memfs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { StateFile, ensureStateDir } from "../../../blueprint/state/state-file.js";
import type { FsPromises } from "../../../blueprint/state/atomic-write.js";

const Schema = z.object({ sandboxes: z.array(z.string()) }).strict();

function memFs(files: Record<string, string> = {}) {
  const vol = Volume.fromJSON(files);
  return { vol, fs: createFsFromVolume(vol).promises as unknown as FsPromises };
}

describe("state files", () => {
  it("returns the default when the file is missing and writes atomically (no temp left behind)", async () => {
    const { vol, fs } = memFs();
    const state = new StateFile("/state/nemoclaw/sandboxes.json", Schema, fs);
    expect(await state.read(() => ({ sandboxes: [] }), "run onboard")).toEqual({ sandboxes: [] });
    await state.write({ sandboxes: ["a"] });
    expect(Object.keys(vol.toJSON())).toEqual(["/state/nemoclaw/sandboxes.json"]);
    expect(await state.read(() => ({ sandboxes: [] }), "run onboard")).toEqual({ sandboxes: ["a"] });
    expect((await fs.stat("/state/nemoclaw")).mode & 0o777).toBe(0o700);
  });

  it.each([
    ["truncated JSON", '{"sandboxes": ["a"', /not JSON/],
    ["wrong shape", '{"sandboxes": "a"}', /sandboxes: /],
  ])("moves a corrupted file aside (%s) and says where and what next; the next read starts clean", async (_, content, why) => {
    const { vol, fs } = memFs({ "/s/sandboxes.json": content });
    const state = new StateFile("/s/sandboxes.json", Schema, fs);
    const err = await state.read(() => ({ sandboxes: [] }), "re-run `openclaw nemoclaw onboard`").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "state-corrupt", hint: "re-run `openclaw nemoclaw onboard`" });
    expect((err as Error).message).toMatch(why);
    const kept = Object.entries(vol.toJSON()).filter(([p]) => p.startsWith("/s/sandboxes.json.corrupt-"));
    expect(kept).toEqual([[expect.any(String), content]]);
    expect((err as Error).message).toContain(kept[0]?.[0]);
    expect(await state.read(() => ({ sandboxes: [] }), "x")).toEqual({ sandboxes: [] });
  });

  it("refuses to write a value that breaks the schema, leaving the old file intact", async () => {
    const { vol, fs } = memFs({ "/s/sandboxes.json": '{"sandboxes":["keep"]}' });
    const state = new StateFile("/s/sandboxes.json", Schema, fs);
    await expect(state.write({ sandboxes: [1] } as never)).rejects.toMatchObject({ name: "ZodError", issues: [expect.objectContaining({ path: ["sandboxes", 0], code: "invalid_type" })] });
    expect(vol.toJSON()["/s/sandboxes.json"]).toBe('{"sandboxes":["keep"]}');
  });

  it("tightens a state directory that others can read", async () => {
    const { fs } = memFs();
    await fs.mkdir("/open", { mode: 0o755 });
    await ensureStateDir("/open", fs);
    expect((await fs.stat("/open")).mode & 0o777).toBe(0o700);
  });
});
