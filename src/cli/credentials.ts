// `openclaw nemoclaw credentials add|list|remove`: the host-held secrets. A secret is never an
// argv value — not of this CLI (it comes from an environment variable or stdin), not of the
// runtime subprocess (it gets it on its stdin) — and it is never printed: `list` shows a
// fingerprint.
import type { z } from "zod";
import { runBlueprint } from "../blueprint/run.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { UserError } from "../errors.js";
import { runInferenceCall } from "./inference.js";
import { printJson, renderFields } from "./output.js";

type Routes = typeof import("../../blueprint/runtime/inference-routes.js");
type Summary = z.infer<Routes["CredentialsListResult"]>["credentials"][number];
type Binding = Summary["bindings"][number];

export function describeBinding(b: Binding): string {
  const where = b.in === "header" ? `header ${b.name}` : b.in === "query" ? `query ${b.name}` : `path /${b.prefix}<token>/`;
  return `${b.host}:${b.port} (${where})`;
}

/** `host:port[:header=H|:path-prefix=P|:query=Q]`; the header defaults to Authorization. */
export function parseBinding(text: string): Record<string, unknown> {
  const [host = "", port = "", where, ...extra] = text.split(":");
  const number = Number(port);
  const usage = "write --bind host:port[:header=NAME|:path-prefix=PREFIX|:query=NAME], e.g. --bind api.github.com:443:header=authorization";
  if (host === "" || !Number.isInteger(number) || number < 1 || number > 65535 || extra.length > 0) throw new UserError(`--bind ${text}: not host:port[:where]`, usage);
  if (where === undefined) return { in: "header", host, port: number, name: "authorization" };
  const m = /^(header|path-prefix|query)=(.*)$/.exec(where);
  if (m === null) throw new UserError(`--bind ${text}: "${where}" is not header=…, path-prefix=… or query=…`, usage);
  const value = m[2] ?? "";
  if (m[1] === "header") return { in: "header", host, port: number, name: value };
  if (m[1] === "query") return { in: "query", host, port: number, name: value };
  return { in: "path", host, port: number, prefix: value };
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UserError("--stdin reads the secret from a pipe, not a terminal (it would echo)", 'pipe it in: printf %s "$TOKEN" | openclaw nemoclaw credentials add NAME --stdin, or use --from-env VAR');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function credentialsAdd(
  config: ResolvedConfig,
  name: string,
  opts: { kind?: string; fromEnv?: string; stdin?: boolean; bind?: string[]; prefix?: string; json?: boolean },
): Promise<void> {
  if ((opts.fromEnv === undefined) === (opts.stdin !== true)) {
    throw new UserError("give the secret with exactly one of --from-env VAR or --stdin", `e.g. openclaw nemoclaw credentials add ${name} --from-env ${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_API_KEY`);
  }
  let secret: string;
  if (opts.fromEnv !== undefined) {
    const value = process.env[opts.fromEnv];
    if (value === undefined || value === "") throw new UserError(`the environment variable ${opts.fromEnv} is not set (or empty) in this shell`, `export ${opts.fromEnv}=… first, or pipe the secret into --stdin`);
    secret = value;
  } else {
    secret = await readStdin();
  }
  const bindings = opts.bind?.map(parseBinding);
  const result = await runBlueprint(
    {
      command: "credentials.add",
      stateDir: config.stateDir,
      name,
      ...(opts.kind === undefined ? {} : { kind: opts.kind }),
      ...(bindings === undefined ? {} : { bindings }),
      ...(opts.prefix === undefined ? {} : { placeholderPrefix: opts.prefix }),
    },
    (p) => p.InferenceRoutes.CredentialsAddResult,
    { input: secret },
  );
  if (opts.json) {
    printJson(result);
    return;
  }
  const c = result.credential;
  process.stdout.write(
    `${renderFields(`Credential ${c.name} stored${result.replaced ? " (replaced the previous value)" : ""}`, [
      ["Kind", c.kind],
      ["Fingerprint", c.fingerprint],
      ["Sent to", c.bindings.length === 0 ? "the inference router only" : c.bindings.map(describeBinding).join(", ")],
    ])}\n\n  The sandbox sees a placeholder, never this value.\n`,
  );
}

export async function credentialsList(config: ResolvedConfig, opts: { json?: boolean }): Promise<void> {
  const result = await runInferenceCall(config, "credentials/list", {}, (r) => r.CredentialsListResult);
  if (opts.json) {
    printJson({ credentials: result.credentials });
    return;
  }
  const lines = ["Credentials", ""];
  if (result.credentials.length === 0) lines.push("  none yet", "", "  Next: openclaw nemoclaw credentials add <name> --from-env VAR");
  for (const c of result.credentials) {
    lines.push(`  ${c.name}: ${c.kind}, fingerprint ${c.fingerprint}, sent to ${c.bindings.length === 0 ? "the inference router only" : c.bindings.map(describeBinding).join(", ")}, added ${c.addedAt}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

export async function credentialsRemove(config: ResolvedConfig, name: string, opts: { json?: boolean }): Promise<void> {
  const result = await runInferenceCall(config, "credentials/remove", { name }, (r) => r.CredentialsRemoveResult);
  if (opts.json) printJson(result);
  else process.stdout.write(`Credential ${result.removed} removed\n\n  Routes and placeholders that used it stop working on their next request.\n`);
}
