import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pluginConfigJsonSchema } from "../../../src/config/json-schema.js";
import { resolvePluginConfig } from "../../../src/config/resolve.js";
import { UserError } from "../../../src/errors.js";
import { repoRoot } from "../../helpers/node24.js";

describe("plugin config schema", () => {
  it("openclaw.plugin.json carries exactly the zod schema (run `npm run manifest:schema` if this fails)", () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, "openclaw.plugin.json"), "utf8")) as {
      id: string;
      configSchema: unknown;
      cliCommands: Array<{ name: string }>;
      activation: { onCommands: string[] };
    };
    expect(manifest.id).toBe("nemoclaw");
    expect(manifest.configSchema).toEqual(pluginConfigJsonSchema);
    expect(manifest.cliCommands.map((c) => c.name)).toEqual(["nemoclaw"]);
    expect(manifest.activation.onCommands).toEqual(["nemoclaw"]);
  });

  it("fills defaults in one place", () => {
    const c = resolvePluginConfig(undefined, { HOME: "/home/op" });
    expect(c).toMatchObject({
      defaultSandbox: "openclaw",
      stateDir: "/home/op/.openclaw/nemoclaw",
    });
    // Unset means the runtime's own default (blueprint/sandbox/image.ts), not a second copy here.
    expect(c.baseImage).toBeUndefined();
    expect(resolvePluginConfig({}, { NEMOCLAW_BASE_IMAGE: "base:x" }).baseImage).toBe("base:x");
    expect(resolvePluginConfig({}, { OPENCLAW_STATE_DIR: "/srv/oc" }).stateDir).toBe("/srv/oc/nemoclaw");
  });

  it("refuses present-but-invalid settings instead of falling back to defaults", () => {
    const attempt = () => resolvePluginConfig({ defaultSandbox: "Bad_Name", dockerHost: "docker.example:2375", extra: 1 }, {});
    expect(attempt).toThrow(UserError);
    try {
      attempt();
    } catch (e) {
      const msg = (e as UserError).message;
      expect(msg).toContain("plugins.entries.nemoclaw.config.defaultSandbox: a sandbox name is an RFC 1123 label");
      expect(msg).toContain("plugins.entries.nemoclaw.config.dockerHost: dockerHost is a URL");
      expect(msg).toMatch(/extra/);
      expect((e as UserError).hint).toMatch(/openclaw config/);
    }
  });

  it("a size the schema accepts is one the parser reads (one grammar)", () => {
    expect(resolvePluginConfig({ sandboxDisk: "1.5GiB" }, {}).sandboxDiskBytes).toBe(1.5 * 1024 ** 3);
    expect(resolvePluginConfig({ sandboxDisk: "512MB" }, {}).sandboxDiskBytes).toBe(512 * 1024 ** 2);
    expect(resolvePluginConfig({ sandboxDisk: "0" }, {}).sandboxDiskBytes).toBe(0);
    // "10gi" used to pass the schema and come out as NaN bytes.
    expect(() => resolvePluginConfig({ sandboxDisk: "10gi" }, {})).toThrow(/sandboxDisk is a size such as 10g/);
  });
});
