// The layering of blueprint/ and what the plugin may load before it verifies the runtime, checked
// on the import statements themselves: a newcomer can trust the map in blueprint/README.md.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/node24.js";

/** Which blueprint folders each folder may import from (itself always). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  state: [],
  control: [],
  supervisor: [],
  policy: ["state"],
  ca: ["state"],
  credentials: ["state"],
  gateway: ["state", "policy", "control", "ca", "supervisor", "credentials"],
  inference: ["state", "credentials", "gateway"],
  sandbox: ["state", "policy", "ca", "supervisor"],
  runtime: ["state", "policy", "control", "ca", "supervisor", "credentials", "gateway", "inference", "sandbox"],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every module specifier a file imports (static, dynamic and `typeof import`), with whether it is type-only. */
function imports(file: string): Array<{ spec: string; typeOnly: boolean }> {
  const text = readFileSync(file, "utf8");
  const out: Array<{ spec: string; typeOnly: boolean }> = [];
  for (const m of text.matchAll(/^\s*(import|export)(\s+type)?\b[^;]*?from\s+"([^"]+)"/gms)) out.push({ spec: m[3]!, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(/(typeof\s+)?import\(\s*"([^"]+)"\s*\)/g)) out.push({ spec: m[2]!, typeOnly: m[1] !== undefined });
  return out;
}

describe("layout", () => {
  const blueprint = path.join(repoRoot, "blueprint");
  const folders = readdirSync(blueprint, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

  it("every blueprint folder has a place in the layering", () => {
    expect(folders.filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it("blueprint folders import only downward", () => {
    const wrong: string[] = [];
    for (const folder of folders) {
      for (const file of sources(path.join(blueprint, folder))) {
        for (const { spec } of imports(file)) {
          if (!spec.startsWith(".")) continue;
          const target = path.relative(blueprint, path.resolve(path.dirname(file), spec));
          const to = target.split(path.sep)[0]!;
          if (to === folder || target.startsWith("..")) {
            if (target.startsWith("..")) wrong.push(`${path.relative(repoRoot, file)} → ${spec} (outside blueprint/)`);
            continue;
          }
          if (!MAY_IMPORT[folder]?.includes(to)) wrong.push(`${path.relative(repoRoot, file)} → ${spec}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("the supervisor imports nothing but Node's built-ins and its own folder (it is staged into containers alone)", () => {
    const wrong = sources(path.join(blueprint, "supervisor")).flatMap((file) =>
      imports(file)
        .filter(({ spec }) => !spec.startsWith("node:") && !(spec.startsWith(".") && path.resolve(path.dirname(file), spec).startsWith(path.join(blueprint, "supervisor") + path.sep)))
        .map(({ spec }) => `${path.relative(repoRoot, file)} → ${spec}`),
    );
    expect(wrong).toEqual([]);
  });

  it("the plugin runs no runtime code before verifying it: only two pure helpers, and types", () => {
    // The sandbox-name rule (its config schema needs it) and the terminal-text escaper (every
    // line it prints): pure functions with no imports of their own.
    const pure = ["sandbox-name.js", "terminal-text.js"].map((f) => path.join(blueprint, "state", f));
    const wrong = sources(path.join(repoRoot, "src")).flatMap((file) =>
      imports(file)
        .map(({ spec, typeOnly }) => ({ spec, typeOnly, target: path.resolve(path.dirname(file), spec) }))
        .filter(({ target, typeOnly }) => target.startsWith(blueprint + path.sep) && !typeOnly && !pure.includes(target))
        .map(({ spec }) => `${path.relative(repoRoot, file)} → ${spec}`),
    );
    expect(wrong).toEqual([]);
  });
});

describe("the helpers the plugin loads before verification", () => {
  it("import nothing but zod", () => {
    for (const file of ["sandbox-name.ts", "terminal-text.ts"]) {
      const specs = imports(path.join(repoRoot, "blueprint", "state", file)).map((i) => i.spec);
      expect(specs.filter((s) => s !== "zod")).toEqual([]);
    }
  });
});
