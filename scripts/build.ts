// `npm run build`: bundle what ships, then seal the runtime (seal-blueprint.ts).
//
//   dist/src/index.js                  the plugin; `openclaw` stays the host's own
//   dist/blueprint/runtime/main.js     the runtime: every verb and the daemon, libraries included,
//                                      with protocol.js and the chunks they share
//   dist/blueprint/supervisor/*.js     supervisor.js, inspect.js, engine-relay.js, tool-backend/index.js: standalone, Node built-ins only
//
// Why bundles: OpenClaw copies an installed plugin's dependency trees into a fresh capture
// directory on every CLI invocation (docs/architecture.md, "CLI speed"). A package that declares
// no runtime dependencies and imports none costs it only its own few files. The libraries stay
// devDependencies; esbuild puts the parts we use into these files.
import { builtinModules } from "node:module";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild";
import { sealBlueprint } from "./seal-blueprint.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = path.join(root, "dist");

// CommonJS libraries inside an ES module bundle still call require() (for Node built-ins, and
// for optional native addons they can do without) and read __dirname.
const COMMONJS_SHIM = [
  'import { createRequire as __nemoclawCreateRequire } from "node:module";',
  'import { fileURLToPath as __nemoclawFileURLToPath } from "node:url";',
  "const require = __nemoclawCreateRequire(import.meta.url);",
  "const __filename = __nemoclawFileURLToPath(import.meta.url);",
  'const __dirname = __filename.slice(0, __filename.lastIndexOf("/"));',
].join("\n");

const common: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  metafile: true,
  logLevel: "warning",
  absWorkingDir: root,
  // Less source for Node to read and compile on every start (a runtime verb's start is most of
  // its cost over OpenClaw's own). Identifiers stay, so a stack trace still names functions.
  minifyWhitespace: true,
  minifySyntax: true,
};

/**
 * Optional requires that libraries guard with try/catch and do without: ssh2's native crypto and
 * CPU probe (a binary built on this machine has no place in a package), debug's colours, and
 * ws's native frame helpers (it masks and validates in JavaScript without them).
 */
const OPTIONAL = ["*.node", "cpu-features", "supports-color", "bufferutil", "utf-8-validate"];
const isOptional = (specifier: string) => specifier.endsWith(".node") || OPTIONAL.includes(specifier);

const isBuiltin = (specifier: string) => specifier.startsWith("node:") || builtinModules.includes(specifier);

/**
 * Requires that libraries make at load time for features we rarely use, made lazy: docker-modem
 * loads ssh2 (an ssh:// DOCKER_HOST) and dockerode loads gRPC and protobufjs (BuildKit sessions)
 * when they are first imported, about 0.2 s of every runtime start (docs/architecture.md, "CLI
 * speed"). esbuild evaluates a bundled CommonJS module when its require() call runs, so moving the
 * call into a function defers it to the first use.
 */
const LAZY_REQUIRES: ReadonlyArray<{ file: RegExp; binding: string; module: string }> = [
  { file: /node_modules\/docker-modem\/lib\/modem\.js$/, binding: "ssh", module: "./ssh" },
  { file: /node_modules\/dockerode\/lib\/docker\.js$/, binding: "withSession", module: "./session" },
];
const lazyRequires: Plugin = {
  name: "lazy-requires",
  setup(b) {
    for (const lazy of LAZY_REQUIRES) {
      b.onLoad({ filter: lazy.file }, async (args) => {
        const source = await readFile(args.path, "utf8");
        const eager = `${lazy.binding} = require('${lazy.module}'),`;
        if (!source.includes(eager)) throw new Error(`${args.path} no longer has \`${eager}\`: update LAZY_REQUIRES in scripts/build.ts`);
        return { contents: source.replace(eager, `${lazy.binding} = function () { return require('${lazy.module}').apply(this, arguments); },`), loader: "js" };
      });
    }
  },
};

/**
 * zod's `locales` namespace (every language's error messages, about 360 KB of the 750 KB zod adds
 * to each bundle) reduced to English, the only one it uses unless told otherwise and the only one
 * we use: less code for the plugin and every runtime start to read and compile.
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /node_modules\/zod\/v4\/(classic|core)$/.test(args.resolveDir) ? { path: path.join(args.resolveDir, "../locales/en.js"), namespace: "zod-locales" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
      loader: "js",
    }));
  },
};

/**
 * node:http and node:https reached through require() instead of an ES import. Node builds an ES
 * module facade of a built-in by reading every export, and node:http's include lazy getters
 * (WebSocket and its events) that load undici: 40–60 ms of every runtime start here, for a
 * WebSocket the runtime never uses (docs/architecture.md, "CLI speed"). Our sources only import
 * their default export (the rest are types), which is exactly what require() returns.
 */
const httpThroughRequire: Plugin = {
  name: "http-through-require",
  setup(b) {
    b.onResolve({ filter: /^(node:)?https?$/ }, (args) =>
      args.kind === "import-statement" && !args.importer.includes("/node_modules/") ? { path: args.path.replace(/^(node:)?/, "node:"), namespace: "http-through-require" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "http-through-require" }, (args) => ({ contents: `export default require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

/** Fail the build when a bundle still imports something a bare Node (or the host OpenClaw) lacks. */
function assertImportsOnly(metafile: Metafile | undefined, allowed: (specifier: string) => boolean, what: string): void {
  for (const [file, output] of Object.entries(metafile?.outputs ?? {})) {
    const stray = output.imports.filter((i) => i.external && !allowed(i.path)).map((i) => i.path);
    if (stray.length > 0) throw new Error(`${file} (${what}) imports ${[...new Set(stray)].join(", ")} at run time`);
  }
}

await rm(dist, { recursive: true, force: true });

const [plugin, runtime, supervisor] = await Promise.all([
  build({
    ...common,
    // index.js is the plugin; launch.js the step the host gateway process execve's into (src/launch/).
    // Split: every `openclaw` command loads index.js, so each verb's code is a chunk of its own
    // that loads when the verb runs (src/cli/register.ts).
    entryPoints: { index: "src/index.ts", launch: "src/launch/exec-gateway.ts" },
    outdir: "dist/src",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    // The SDK is the host's: the plugin must talk to the OpenClaw that loaded it.
    external: ["openclaw", "openclaw/*"],
    plugins: [zodEnglishOnly],
    banner: { js: COMMONJS_SHIM },
  }),
  build({
    ...common,
    // main.js runs every verb and the daemon; protocol.js is what the plugin imports, once the
    // blueprint is verified, to read main.js's answers. Shared code goes into chunks beside them,
    // and each verb's code into the chunk main.js imports when that verb runs.
    entryPoints: ["blueprint/runtime/main.ts", "blueprint/runtime/protocol.ts"],
    outbase: "blueprint",
    outdir: "dist/blueprint",
    splitting: true,
    chunkNames: "runtime/[name]-[hash]",
    external: OPTIONAL,
    plugins: [lazyRequires, zodEnglishOnly, httpThroughRequire],
    banner: { js: COMMONJS_SHIM },
  }),
  build({
    ...common,
    // Each is one file with nothing beside it: supervisor.js is staged for containers,
    // inspect.js is passed as `node -e` text, engine-relay.js is run by the host daemon in a
    // sandbox on a remote engine, tool-backend/index.js is the plugin the sandboxed
    // gateway loads (staged with the supervisor, beside its manifest).
    entryPoints: ["blueprint/supervisor/supervisor.ts", "blueprint/supervisor/inspect.ts", "blueprint/supervisor/engine-relay.ts", "blueprint/supervisor/tool-backend/index.ts"],
    outbase: "blueprint/supervisor",
    outdir: "dist/blueprint/supervisor",
    packages: "external",
  }),
]);
assertImportsOnly(plugin.metafile, (s) => isBuiltin(s) || s === "openclaw" || s.startsWith("openclaw/"), "the plugin");
assertImportsOnly(runtime.metafile, (s) => isBuiltin(s) || isOptional(s), "the runtime");
// httpThroughRequire at work: an ES import of either would bring undici back into every start.
for (const [file, output] of Object.entries(runtime.metafile?.outputs ?? {})) {
  const esImported = output.imports.filter((i) => i.kind === "import-statement" && /^(node:)?https?$/.test(i.path));
  if (esImported.length > 0) throw new Error(`${file} (the runtime) imports ${esImported[0]?.path} as an ES module: reach it through require() (httpThroughRequire)`);
}
assertImportsOnly(supervisor.metafile, isBuiltin, "the supervisor");

await sealBlueprint(root);
