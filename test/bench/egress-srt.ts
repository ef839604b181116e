// Anthropic's sandbox-runtime (`srt`) as the peer in the inside-sandbox bench: installed with
// npm into a cache dir under the OS temp dir (not a dependency of ours), run with a settings
// file that allows only the stub's address literal. It needs Debian's bubblewrap, socat and
// ripgrep (`apt-get install bubblewrap socat ripgrep`); when anything is missing the bench
// prints why instead of a number.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const PACKAGE = "@anthropic-ai/sandbox-runtime";
const cacheDir = path.join(os.tmpdir(), "nemoclaw-bench-srt");

/** `run` is the client's printed JSON, holding every key of `keys`. */
export type SrtResult = { ok: true; version: string; run: Record<string, number> } | { ok: false; reason: string };

async function which(bin: string): Promise<boolean> {
  return run("sh", ["-c", `command -v ${bin}`]).then(
    () => true,
    () => false,
  );
}

async function installSrt(): Promise<string> {
  const bin = path.join(cacheDir, "node_modules", ".bin", "srt");
  if (!existsSync(bin)) {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(path.join(cacheDir, "package.json"), '{"private":true}\n');
    await run("npm", ["install", "--no-save", "--no-audit", "--no-fund", PACKAGE], { cwd: cacheDir, timeout: 300_000 });
  }
  return bin;
}

/**
 * Runs `client` (a Node script taking proxy URL, target URL, count; printing one JSON line) under
 * srt against `urlPath` of the stub on 127.0.0.1:port.
 */
export async function runUnderSrt(client: string, port: number, urlPath: string, count: number, keys: readonly string[]): Promise<SrtResult> {
  const missing = [];
  for (const bin of ["bwrap", "socat", "rg"]) if (!(await which(bin))) missing.push(bin);
  if (missing.length > 0) return { ok: false, reason: `${missing.join(", ")} not installed (apt-get install bubblewrap socat ripgrep)` };
  let bin: string;
  try {
    bin = await installSrt();
  } catch (e) {
    return { ok: false, reason: `npm install ${PACKAGE} failed: ${(e as Error).message.split("\n")[0]}` };
  }
  const version = (JSON.parse(await readFile(path.join(cacheDir, "node_modules", PACKAGE, "package.json"), "utf8")) as { version: string }).version;
  const work = path.join(cacheDir, `run-${process.pid}`);
  await mkdir(work, { recursive: true });
  try {
    const settings = path.join(work, "settings.json");
    const script = path.join(work, "client.cjs");
    await writeFile(settings, JSON.stringify({ network: { allowedDomains: [`127.0.0.1:${port}`], deniedDomains: [] }, filesystem: { denyRead: [], allowWrite: [work], denyWrite: [] } }));
    await writeFile(script, client);
    // srt's proxies listen on the host; the client reaches them through HTTP_PROXY as srt sets it.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$HTTP_PROXY" http://127.0.0.1:${port}${urlPath} ${count}`;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(bin, ["-s", settings, "-c", command], { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
    const line = out.stdout.trim().split("\n").pop() ?? "";
    const parsed = (() => {
      try {
        return JSON.parse(line) as Record<string, number> & { error?: string };
      } catch {
        return {} as Record<string, number> & { error?: string };
      }
    })();
    if (!keys.every((k) => typeof parsed[k] === "number")) {
      return { ok: false, reason: `srt exited ${out.code}: ${(parsed.error ?? (out.stderr.trim() || out.stdout.trim())).slice(0, 400)}` };
    }
    return { ok: true, version, run: parsed };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
