// One verb of the built runtime (dist/blueprint/runtime/main.js) in a process of its own, as
// runBlueprint starts it for every CLI verb: its result line and what it wrote to stderr.
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./node24.js";

const RUNTIME = path.join(repoRoot, "dist/blueprint/runtime/main.js");

export interface RuntimeRun {
  exitCode: number | null;
  result: Record<string, unknown> | undefined;
  stderr: string;
}

export function runRuntime(request: Record<string, unknown>): Promise<RuntimeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNTIME, JSON.stringify(request)], { stdio: ["ignore", "pipe", "pipe"] });
    let result: Record<string, unknown> | undefined;
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as { type: string; data?: Record<string, unknown> };
      if (message.type === "result") result = message.data;
    });
    child.once("error", reject);
    child.once("close", (exitCode) => resolve({ exitCode, result, stderr }));
  });
}
