// An HTTP client run INSIDE a sandbox as the workload (node's own fetch through the forwarder,
// as OpenClaw's clients go out): it prints one JSON line per body chunk when asked to stream,
// then one line with the status and the whole body. `startInside` hands the output over as it
// arrives, so a test can act while a stream is still open.
import { PassThrough } from "node:stream";
import type { SandboxHarness } from "./docker-sandbox.js";

export interface InsideInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Print each chunk as it arrives. */
  stream?: boolean;
}

export interface InsideReply {
  status?: number;
  body?: string;
  error?: string;
  chunks: string[];
}

const CLIENT = `
const [url, init] = [process.argv[1], JSON.parse(process.argv[2])];
(async () => {
  try {
    const r = await fetch(url, init);
    let body = "";
    const decoder = new TextDecoder();
    for await (const c of r.body ?? []) {
      const t = decoder.decode(c, { stream: true });
      body += t;
      if (init.stream) console.log(JSON.stringify({ chunk: t }));
    }
    console.log(JSON.stringify({ status: r.status, body }));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e.cause?.code ?? e.cause?.message ?? e.message) }));
  }
})();
`;

function parse(stdout: string): InsideReply {
  const reply: InsideReply = { chunks: [] };
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const m = JSON.parse(line) as { chunk?: string; status?: number; body?: string; error?: string };
    if (m.chunk !== undefined) reply.chunks.push(m.chunk);
    else Object.assign(reply, m);
  }
  return reply;
}

export interface InsideCall {
  /** Output so far. */
  output(): string;
  /** Resolves once the output contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  done: Promise<InsideReply>;
}

export function startInside(h: SandboxHarness, name: string, url: string, init: InsideInit = {}): InsideCall {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = "";
  let errText = "";
  const waiters: Array<() => void> = [];
  out.on("data", (c: Buffer) => {
    text += c.toString("utf8");
    for (const w of waiters.splice(0)) w();
  });
  err.on("data", (c: Buffer) => (errText += c.toString("utf8")));
  const done = h.driver.exec(name, ["node", "-e", CLIENT, url, JSON.stringify(init)], { stdout: out, stderr: err }).then(async (code) => {
    await new Promise((r) => setTimeout(r, 20));
    try {
      return parse(text);
    } catch {
      throw new Error(`inside client (exit ${code}) printed: ${text}\n${errText}`);
    }
  });
  return {
    output: () => text,
    waitFor: (needle, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${needle}" from inside within ${timeoutMs} ms; got: ${text}${errText}`)), timeoutMs);
        const check = (): void => {
          if (text.includes(needle)) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    done,
  };
}

export function fetchInside(h: SandboxHarness, name: string, url: string, init: InsideInit = {}): Promise<InsideReply> {
  return startInside(h, name, url, init).done;
}

/** JSON POST init with a bearer placeholder, as the sandbox's OpenClaw config would send it. */
export function postJson(body: unknown, headers: Record<string, string> = {}, stream = false): InsideInit {
  return { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body), stream };
}
