import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PolicyError } from "../../../blueprint/policy/load.js";
import { listPresets, loadPreset, presetAllows } from "../../../blueprint/policy/presets.js";
import { PresetSchema } from "../../../blueprint/policy/schema.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "nemoclaw-presets-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = [
  "description: Example API",
  "network_policies:",
  "  example:",
  "    endpoints:",
  "      - { host: api.example.com, ports: [443, 8443] }",
  "      - { allowed_ips: [10.1.0.0/16], port: 9000 }",
  "    binaries: [{ path: /usr/bin/node }]",
  "",
].join("\n");

describe("listPresets", () => {
  it("lists name, description and host:port destinations, sorted by name", async () => {
    await writeFile(join(dir, "zeta.yaml"), GOOD);
    await writeFile(join(dir, "alpha.yaml"), GOOD.replace("Example API", "Alpha"));
    await writeFile(join(dir, "notes.txt"), "not a preset");
    const presets = await listPresets(dir);
    expect(presets.map((p) => [p.name, p.description, p.policies])).toEqual([
      ["alpha", "Alpha", ["example"]],
      ["zeta", "Example API", ["example"]],
    ]);
    expect(presets[0]?.allows).toEqual(["[10.1.0.0/16]:9000", "api.example.com:443", "api.example.com:8443"]);
  });

  it("reports every invalid preset with its file and line", async () => {
    await writeFile(join(dir, "good.yaml"), GOOD);
    await writeFile(join(dir, "bad.yaml"), GOOD.replace("port: 9000", "port: 99999"));
    await writeFile(join(dir, "worse.yaml"), "network_policies: {}\n");
    const error = await listPresets(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).issues.map((i) => [i.file, i.line, i.field])).toEqual([
      [join(dir, "bad.yaml"), 6, "network_policies.example.endpoints[1].port"],
      [join(dir, "worse.yaml"), 1, "(document)"],
      [join(dir, "worse.yaml"), 1, "network_policies"],
    ]);
  });
});

describe("loadPreset", () => {
  it("loads one preset by name", async () => {
    await writeFile(join(dir, "example.yaml"), GOOD);
    const preset = await loadPreset("example", dir);
    expect(preset).toMatchObject({ name: "example", description: "Example API", file: join(dir, "example.yaml") });
  });

  it("names the available presets when asked for a missing one", async () => {
    await writeFile(join(dir, "example.yaml"), GOOD);
    await expect(loadPreset("nope", dir)).rejects.toThrow(/no preset named "nope"; available: example/);
    await expect(loadPreset("../etc/passwd", dir)).rejects.toThrow(/not a preset name/);
  });
});

describe("presetAllows", () => {
  it("dedupes destinations across policies", () => {
    const preset = PresetSchema.parse({
      description: "x",
      network_policies: {
        a: { endpoints: [{ host: "a.example.com", port: 443 }], binaries: [{ path: "/usr/bin/node" }] },
        b: { endpoints: [{ host: "a.example.com", port: 443 }], binaries: [{ path: "/usr/bin/curl" }] },
      },
    });
    expect(presetAllows(preset)).toEqual(["a.example.com:443"]);
  });
});
