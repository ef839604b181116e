// The per-sandbox caller secret: 32 random bytes (hex) that the sandbox's supervisor writes first
// in every caller preamble, and the gateway checks before it reads anything else. Only the
// supervisor holds it inside the sandbox (in its configuration environment, unreadable to the
// workload), so a process that reaches proxy.sock some other way — the workload, when the host
// daemon runs as the workload's uid — cannot speak for the sandbox. Made once per sandbox (kept
// across container re-creation), removed with its state folder.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-write.js";
import { sandboxCallerSecretFile } from "./paths.js";

const SECRET = /^[0-9a-f]{64}$/;

function parse(text: string, file: string, what = "caller secret"): string {
  const secret = text.trim();
  if (!SECRET.test(secret)) throw new Error(`${file} is not a ${what} (64 hex digits); remove it and recreate the sandbox`);
  return secret;
}

/**
 * The 32-byte hex secret kept in `file` (0600), made atomically when there is none yet: the
 * caller secret here, and the sandboxed gateway's token (sandbox/gateway-inside.ts).
 */
export async function ensureSecretFile(file: string, what: string): Promise<string> {
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (text !== undefined) return parse(text, file, what);
  const secret = randomBytes(32).toString("hex");
  await writeFileAtomic(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The sandbox's caller secret, made (0600, atomically) when it has none yet. */
export function ensureCallerSecret(stateDir: string, name: string): Promise<string> {
  return ensureSecretFile(sandboxCallerSecretFile(stateDir, name), "caller secret");
}

/** The caller secret in `file`, or undefined when there is none (a sandbox made before secrets). */
export function readCallerSecretSync(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return parse(text, file);
}
