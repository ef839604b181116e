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

function parse(text: string, file: string): string {
  const secret = text.trim();
  if (!SECRET.test(secret)) throw new Error(`${file} is not a caller secret (64 hex digits); remove it and recreate the sandbox`);
  return secret;
}

/** The sandbox's caller secret, made (0600, atomically) when it has none yet. */
export async function ensureCallerSecret(stateDir: string, name: string): Promise<string> {
  const file = sandboxCallerSecretFile(stateDir, name);
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (text !== undefined) return parse(text, file);
  const secret = randomBytes(32).toString("hex");
  await writeFileAtomic(file, `${secret}\n`, { mode: 0o600 });
  return secret;
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
