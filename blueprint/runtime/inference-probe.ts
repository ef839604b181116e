// The health step's inference check, as a program a process inside the sandbox runs with
// `node -e` (through the launcher, so the forwarder, the policy and the router all take part).
// `GET /v1/models` alone proves little: the router answers it itself, so a rejected key or a
// wrong model would pass. So the program then makes one real model call in the route's shape, as
// small as a provider allows: a chat completion or an Anthropic message with `max_tokens: 1`;
// when an OpenAI-shaped provider refuses `max_tokens` (OpenAI's reasoning models), once more with
// `max_completion_tokens`. The shape is the route's, never guessed from a refusal: just after a
// switch of shape the router serves the old shape from the previous route (route.ts). A failure
// carries the router's message: the provider's status, what it said (keys scrubbed), the hint.

export interface InferenceProbe {
  ok: boolean;
  status: number | null;
  models: string[];
  detail: string;
}

export interface ProbeOptions {
  /** The route's API shape; none: no route, the models list's answer says so. */
  shape: "openai" | "anthropic" | undefined;
  /** Where the router answers. Default (inside): `http://inference.local`. */
  origin?: string;
}

/** The program, for `node -e`; it prints one JSON line for `readInferenceProbe`. */
export function inferenceProbeProgram({ shape, origin = "http://inference.local" }: ProbeOptions): string {
  return `
const origin = ${JSON.stringify(origin)};
const shape = ${JSON.stringify(shape ?? null)};
const text = async (r) => (await r.text()).slice(0, 4000);
const ask = async (path, body) => {
  const r = await fetch(origin + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(120000) });
  return { path, status: r.status, body: await text(r) };
};
(async () => {
  const list = await fetch(origin + "/v1/models", { signal: AbortSignal.timeout(60000) });
  const models = { status: list.status, body: await text(list) };
  if (list.status !== 200 || shape === null) return { models };
  const messages = [{ role: "user", content: "Reply with OK." }];
  if (shape === "anthropic") return { models, call: await ask("/v1/messages", { model: "routed", messages, max_tokens: 1 }) };
  let call = await ask("/v1/chat/completions", { model: "routed", messages, max_tokens: 1, stream: false });
  if (call.status === 400 && /max_tokens/.test(call.body) && !call.body.includes("route_shape_mismatch")) {
    call = await ask("/v1/chat/completions", { model: "routed", messages, max_completion_tokens: 16, stream: false });
  }
  return { models, call };
})().then((r) => console.log(JSON.stringify(r)), (e) => console.log(JSON.stringify({ error: String(e.cause?.code ?? e.cause?.message ?? e.message) })));
`;
}

/** An error body's message in any shape the router answers with (OpenAI, Anthropic, Ollama). */
function messageOf(body: string | undefined): string {
  try {
    const parsed = JSON.parse(body ?? "") as { error?: unknown };
    const error = parsed.error as { message?: unknown } | string | undefined;
    if (typeof error === "string") return error;
    if (typeof error?.message === "string") return error.message;
  } catch {
    // not JSON: the text itself
  }
  return (body ?? "").slice(0, 300);
}

interface Answer {
  status: number;
  body?: string;
}

/** What the program printed (its last line), read into the health step's verdict. */
export function readInferenceProbe(stdout: string, exitCode: number, stderr = ""): InferenceProbe {
  let reply: { models?: Answer; call?: Answer & { path: string }; error?: string };
  try {
    reply = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as typeof reply;
  } catch {
    return { ok: false, status: null, models: [], detail: `the probe inside exited ${exitCode}: ${(stderr || stdout).trim().slice(0, 300)}` };
  }
  if (reply.models === undefined) return { ok: false, status: null, models: [], detail: `the request failed inside: ${reply.error}` };
  if (reply.models.status !== 200) {
    return { ok: false, status: reply.models.status, models: [], detail: `GET http://inference.local/v1/models answered ${reply.models.status}: ${messageOf(reply.models.body)}` };
  }
  let models: string[] = [];
  try {
    models = ((JSON.parse(reply.models.body ?? "{}") as { data?: Array<{ id?: unknown }> }).data ?? []).map((d) => String(d.id));
  } catch {
    // a 200 that is not a list: the model call below decides
  }
  const call = reply.call;
  if (call === undefined) return { ok: false, status: null, models, detail: "the model call was not made" };
  const where = `POST http://inference.local${call.path}`;
  if (call.status >= 200 && call.status < 300) {
    return { ok: true, status: call.status, models, detail: `${where} answered ${call.status} (model ${models.join(", ") || "routed"})` };
  }
  return { ok: false, status: call.status, models, detail: `${where} answered ${call.status}: ${messageOf(call.body)}` };
}
