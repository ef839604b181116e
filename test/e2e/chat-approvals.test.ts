// Egress approvals in the chat, end to end (test/helpers/chat-sandbox.ts): a request from the
// tools' domain of a real gateway sandbox to an unlisted host is held by the host's egress
// gateway, prompted through the sandbox's own OpenClaw to an approval client, and decided there.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlRequest } from "../../blueprint/runtime/daemon-client.js";
import { chatDecisionLogFile } from "../../blueprint/runtime/chat-approvals.js";
import { GATEWAY_CONFIG, gatewaySocketFile } from "../../blueprint/sandbox/gateway-inside.js";
import { OpenclawGatewayClient } from "../../blueprint/runtime/openclaw-gateway-client.js";
import { sandboxPolicyFile } from "../../blueprint/state/paths.js";
import net from "node:net";
import { startHostRelay } from "../../blueprint/runtime/gateway-relay.js";
import { createChatSandbox, until, type ChatSandbox } from "../helpers/chat-sandbox.js";
import { createOpenclawHome } from "../helpers/openclaw.js";
import { CredentialStore } from "../../blueprint/credentials/store.js";
import { startStub } from "../helpers/stub-models.js";

let c: ChatSandbox;
const HOSTS = ["once.sbx.test", "always.sbx.test", "deny.sbx.test", "late.sbx.test", "cli.sbx.test", "shared.sbx.test", "oc-cli.sbx.test", "cmd.sbx.test", "cmd-always.sbx.test", "cmd-deny.sbx.test", "cmd-never.sbx.test", "stranger.sbx.test"];
/** More than the bridge opens at once per sandbox (8): a flood of new destinations. */
const FLOOD = Array.from({ length: 12 }, (_, i) => `flood${i}.sbx.test`);
// Long enough for two `openclaw` CLI calls on a loaded machine (the last test) before the hold times out.
const TIMEOUT_MS = 60_000;

/** A 403 body: `{error, reason, next, …}` (blueprint/gateway/refusals.ts). */
function refusal(out: string): { error: string; reason: string; next: string } {
  expect(out).toMatch(/ 403$/);
  return JSON.parse(out.replace(/ 403$/, "")) as { error: string; reason: string; next: string };
}

/** The bridge's record of a chat decision (written once OpenClaw named who decided, within 10 s). */
async function decisionRecord(openclawId: string): Promise<Record<string, unknown> | undefined> {
  return until("the decision record", async () => {
    const text = await readFile(chatDecisionLogFile(c.h.stateDir, c.name), "utf8").catch(() => "");
    return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.openclawId === openclawId);
  }, 15_000);
}

beforeAll(async () => {
  c = await createChatSandbox("chat", HOSTS, TIMEOUT_MS);
}, 600_000);

afterAll(async () => {
  await c?.dispose();
});

describe("an unlisted host from the tools' domain, decided in the chat", () => {
  it("allow-once: the prompt reaches the approval client, the request completes, the next one prompts again", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("once.sbx.test");
    const prompt = await c.promptFor("once.sbx.test", t0);
    expect(prompt.title).toMatch(/node in sandbox .* wants once\.sbx\.test:80/);
    expect(prompt.description).toContain("GET /hello");
    // No conversation asked: the prompt names the operator's main session (forwarded to its last channel).
    expect(prompt.sessionKey).toMatch(/^agent:main:main$|^main$/);
    const [held] = await c.pending("once.sbx.test");
    expect(held).toBeDefined();
    await c.operator.request("plugin.approval.resolve", { id: prompt.id, decision: "allow-once" }, 15_000);
    expect(await call).toMatch(/"url":"\/hello".* 200$/);
    // Who decided is what OpenClaw reported for the resolving client.
    expect(await decisionRecord(prompt.id)).toMatchObject({ decision: "allow-once", decidedBy: "test operator", approvals: [held!.id] });

    const t1 = Date.now();
    const again = c.getFromTools("once.sbx.test");
    const second = await c.promptFor("once.sbx.test", t1);
    expect(second.id).not.toBe(prompt.id);
    await c.operator.request("plugin.approval.resolve", { id: second.id, decision: "deny" }, 15_000);
    expect(await again).toMatch(/denied by operator.* 403$/);
  });

  it("allow-always: later requests pass without a prompt and the policy file has the rule", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("always.sbx.test");
    const prompt = await c.promptFor("always.sbx.test", t0);
    await c.operator.request("plugin.approval.resolve", { id: prompt.id, decision: "allow-always" }, 15_000);
    expect(await call).toMatch(/ 200$/);
    const t1 = Date.now();
    expect(await c.getFromTools("always.sbx.test", "/later")).toMatch(/"url":"\/later".* 200$/);
    expect(c.requested.filter((r) => r.at >= t1 && r.title.includes("always.sbx.test"))).toEqual([]);
    const policy = await readFile(sandboxPolicyFile(c.h.stateDir, c.name), "utf8");
    expect(policy).toContain("always.sbx.test");
    expect(policy).toContain("/usr/local/bin/node");
  });

  it("deny: 403 naming the operator's denial", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("deny.sbx.test");
    const prompt = await c.promptFor("deny.sbx.test", t0);
    await c.operator.request("plugin.approval.resolve", { id: prompt.id, decision: "deny" }, 15_000);
    const body = refusal(await call);
    expect(body.error).toBe("denied by operator");
    expect(body.reason).toMatch(/was denied/);
    // How to ask again.
    expect(body.next).toMatch(/^ask the operator to approve it \(openclaw nemoclaw approvals, then approve <id>\)/);
  });

  it("timeout: nobody decides → 403 approval timed out, and the chat prompt is closed as denied", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("late.sbx.test");
    const prompt = await c.promptFor("late.sbx.test", t0);
    const body = refusal(await call);
    expect(body.error).toBe("approval timed out");
    expect(body.next).toMatch(/^ask the operator to approve it \(openclaw nemoclaw approvals, then approve <id>\)/);
    const closed = await until("the prompt closed", () => c.resolved.find((r) => r.id === prompt.id));
    expect(closed.decision).toBe("deny");
  });

  it("the host CLI decides first: the request passes, the chat shows the prompt decided, a late chat answer is refused", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("cli.sbx.test");
    const prompt = await c.promptFor("cli.sbx.test", t0);
    const [held] = await c.pending("cli.sbx.test");
    await controlRequest(c.h.stateDir, "POST", "/egress/approvals/decide", { id: held!.id, decision: "approve" });
    expect(await call).toMatch(/ 200$/);
    const closed = await until("the prompt closed", () => c.resolved.find((r) => r.id === prompt.id));
    expect(closed.decision).toBe("allow-once");
    await expect(c.operator.request("plugin.approval.resolve", { id: prompt.id, decision: "deny" }, 15_000)).rejects.toThrow(/already|expired|not found|resolved/i);
  });

  it("requests that read the same share one prompt; an answer releases only the requests its prompt showed", async () => {
    const t0 = Date.now();
    const a = [c.getFromTools("shared.sbx.test", "/a"), c.getFromTools("shared.sbx.test", "/a")];
    const b = c.getFromTools("shared.sbx.test", "/b");
    await until("the three requests held", async () => ((await c.pending("shared.sbx.test")).length === 3 ? true : undefined));
    const promptOf = (p: string) => until(`the prompt for ${p}`, () => c.requested.find((r) => r.at >= t0 && r.title.includes("shared.sbx.test") && r.description.startsWith(`GET ${p}.`)));
    const [promptA, promptB] = [await promptOf("/a"), await promptOf("/b")];
    // One prompt per distinct request shown: two for /a and /b, none for the second /a.
    expect(c.requested.filter((r) => r.at >= t0 && r.title.includes("shared.sbx.test"))).toHaveLength(2);
    await c.operator.request("plugin.approval.resolve", { id: promptA.id, decision: "allow-once" }, 15_000);
    for (const out of await Promise.all(a)) expect(out).toMatch(/"url":"\/a".* 200$/);
    // /b was never shown by the answered prompt: still held, its own prompt still open.
    const left = await c.pending("shared.sbx.test");
    expect(left).toHaveLength(1);
    expect(c.resolved.find((r) => r.id === promptB.id)).toBeUndefined();
    await c.operator.request("plugin.approval.resolve", { id: promptB.id, decision: "deny" }, 15_000);
    expect(refusal(await b).error).toBe("denied by operator");
  });

  it("OpenClaw's own CLI on the host, against the relayed gateway: the prompt is in `approvals pending`, `approvals resolve` decides", async () => {
    const relay: net.Server = await startHostRelay(c.h.driver.gatewaySocket(c.name), 0);
    const home = await createOpenclawHome();
    try {
      const gateway = ["--url", `ws://127.0.0.1:${(relay.address() as net.AddressInfo).port}`, "--token", c.token, "--timeout", "60000"];
      const t0 = Date.now();
      const call = c.getFromTools("oc-cli.sbx.test");
      const prompt = await c.promptFor("oc-cli.sbx.test", t0);
      const listed = await home.run(["approvals", "pending", "--json", ...gateway]);
      expect(listed.exitCode, listed.all).toBe(0);
      expect(listed.stdout).toContain(prompt.id);
      expect(listed.stdout).toContain("oc-cli.sbx.test");
      const decided = await home.run(["approvals", "resolve", prompt.id, "allow-once", ...gateway]);
      expect(decided.exitCode, decided.all).toBe(0);
      expect(await call).toMatch(/ 200$/);
      expect(await decisionRecord(prompt.id)).toMatchObject({ decision: "allow-once", decidedBy: expect.any(String) });
    } finally {
      relay.close();
      await home.dispose();
    }
  });

  it("the gateway refuses an approval client without its token", async () => {
    const attempt = OpenclawGatewayClient.connect({ connect: () => net.connect(gatewaySocketFile(c.h.stateDir, c.name)), token: "0".repeat(64), displayName: "impostor" });
    await expect(attempt).rejects.toThrow(/token|unauthorized|auth/i);
  });

  it("/nemoclaw in the chat: approvals lists the held request, approve <runtime id> lets it through, named for the sender", async () => {
    const say = (message: string) => c.say(message);
    expect(await say("/nemoclaw help")).toContain("/nemoclaw approve <id> [always]");
    const t0 = Date.now();
    const call = c.getFromTools("cmd.sbx.test");
    const prompt = await c.promptFor("cmd.sbx.test", t0);
    const [held] = await c.pending("cmd.sbx.test");
    const listed = await say("/nemoclaw approvals");
    expect(listed).toContain(held!.id);
    expect(listed).toContain("cmd.sbx.test");
    expect(await say(`/nemoclaw approve ${held!.id}`)).toContain(`allow-once for ${held!.id}`);
    expect(await call).toMatch(/ 200$/);
    expect(await decisionRecord(prompt.id)).toMatchObject({ decision: "allow-once", decidedBy: expect.stringMatching(/^\/nemoclaw by /) });
  });

  it("/nemoclaw approve <id> always: the policy file gains the rule, later requests pass without a prompt", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("cmd-always.sbx.test");
    const prompt = await c.promptFor("cmd-always.sbx.test", t0);
    const [held] = await c.pending("cmd-always.sbx.test");
    expect(await c.say(`/nemoclaw approve ${held!.id} always`)).toContain(`allow-always for ${held!.id}`);
    expect(await call).toMatch(/ 200$/);
    expect(await decisionRecord(prompt.id)).toMatchObject({ decision: "allow-always", approvals: [held!.id] });
    const policy = await readFile(sandboxPolicyFile(c.h.stateDir, c.name), "utf8");
    expect(policy).toContain("cmd-always.sbx.test");
    const t1 = Date.now();
    expect(await c.getFromTools("cmd-always.sbx.test", "/later")).toMatch(/"url":"\/later".* 200$/);
    expect(c.requested.filter((r) => r.at >= t1 && r.title.includes("cmd-always.sbx.test"))).toEqual([]);
  });

  it("/nemoclaw deny <id>: 403 with the operator's denial and how to ask again; the next request prompts again", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("cmd-deny.sbx.test");
    const prompt = await c.promptFor("cmd-deny.sbx.test", t0);
    const [held] = await c.pending("cmd-deny.sbx.test");
    expect(await c.say(`/nemoclaw deny ${held!.id}`)).toContain(`deny for ${held!.id}`);
    const body = refusal(await call);
    expect(body).toMatchObject({ error: "denied by operator", reason: `approval ${held!.id} was denied` });
    expect(body.next).toMatch(/ask the operator to approve it/);
    expect(await decisionRecord(prompt.id)).toMatchObject({ decision: "deny", decidedBy: expect.stringMatching(/^\/nemoclaw by /) });
    // A plain deny is this request only: asking again prompts again.
    const t1 = Date.now();
    const again = c.getFromTools("cmd-deny.sbx.test");
    const second = await c.promptFor("cmd-deny.sbx.test", t1);
    await c.operator.request("plugin.approval.resolve", { id: second.id, decision: "deny" }, 15_000);
    expect(refusal(await again).error).toBe("denied by operator");
  });

  it("/nemoclaw deny <id> always: 403 now, and later requests are refused at once, without a prompt", async () => {
    const t0 = Date.now();
    const call = c.getFromTools("cmd-never.sbx.test");
    const prompt = await c.promptFor("cmd-never.sbx.test", t0);
    const [held] = await c.pending("cmd-never.sbx.test");
    expect(await c.say(`/nemoclaw deny ${held!.id} always`)).toContain(`deny-always for ${held!.id}`);
    expect(refusal(await call)).toMatchObject({ error: "denied by operator", reason: `approval ${held!.id} was denied` });
    expect(await decisionRecord(prompt.id)).toMatchObject({ decision: "deny-always", decidedBy: expect.stringMatching(/^\/nemoclaw by .*\(deny always\)$/) });
    const t1 = Date.now();
    const later = refusal(await c.getFromTools("cmd-never.sbx.test", "/later"));
    expect(later).toMatchObject({ error: "denied by operator", reason: "cmd-never.sbx.test:80 was denied by the operator (deny-always)" });
    expect(c.requested.filter((r) => r.at >= t1 && r.title.includes("cmd-never.sbx.test"))).toEqual([]);
    expect(await c.pending("cmd-never.sbx.test")).toEqual([]);
  });

  it("/nemoclaw status, policy and logs show the host's real values: the route just set, a layer list, the policy's rules, the denials above", async () => {
    const stub = await startStub("openai", { tag: "status" });
    try {
      await new CredentialStore(c.h.stateDir).add({ name: "openai", secret: "sk-REAL-chat-status-0123456789abcdef" });
      const set = (await controlRequest(c.h.stateDir, "POST", "/inference/set", { sandbox: c.name, provider: "openai", model: "stub-status-model", baseUrl: stub.baseUrl })) as { ok: boolean; message?: string };
      expect(set.ok, set.message).toBe(true);
      // The host pushes a new snapshot when the route file changes (debounced): poll the chat.
      const status = await until("the route in /nemoclaw status", async () => {
        const text = await c.say("/nemoclaw status");
        return text.includes("openai / stub-status-model") ? text : undefined;
      }, 30_000);
      expect(status).toContain(`nemoclaw sandbox ${c.name}`);
      expect(status).toMatch(/Pending approvals: \d+/);
      for (const layer of ["Network: OK", "Filesystem: OK", "Process: OK"]) expect(status).toContain(layer);
      expect(status).toContain("seccomp filter");

      // allow-always above added a rule for always.sbx.test: the policy in force shows it.
      const policy = await c.say("/nemoclaw policy");
      expect(policy).toContain(`Egress policy of ${c.name}`);
      expect(policy).toMatch(/always\.sbx\.test:80.*node/);

      // The operator's deny and the timeout above, newest first, each with rule, reason and next step.
      const logs = await c.say("/nemoclaw logs");
      expect(logs).toContain(`Last egress denials in ${c.name}`);
      expect(logs).toMatch(/(flood\d+|deny|late)\.sbx\.test:80 GET \//);
      expect(logs).toContain("Rule: no policy names it");
      expect(logs).toMatch(/Reason: [^\n]*(denied|timed out)/);
      expect(logs).toContain("Next: ask the operator to approve it");
    } finally {
      await stub.close();
    }
  });

  // Last but one: it changes the gateway's config. OpenClaw's rule for its own chat (chat.send): with no
  // owner configured, every client holding the token is an authorized sender; once
  // commands.ownerAllowFrom names one, only owners are — a client with operator.admin (the TUI,
  // the Control UI; command-auth's senderIsOwnerByScope) or a listed sender. A client with the
  // token but without operator.admin is then a sender it does not authorize.
  it("a chat sender OpenClaw does not authorize: /approve <id> allow-once and /nemoclaw approve <id> are refused, the approval stays pending", async () => {
    const stranger = await c.sender("stranger", ["operator.read", "operator.write"]);
    const say = (text: string) => stranger.say(text, 30_000).catch((e: Error) => `no reply (${e.message.slice(0, 200)})`);
    expect(await say("/nemoclaw help")).toContain("/nemoclaw approve <id> [always]");
    const edit = String.raw`const fs=require("fs");const f=${JSON.stringify(GATEWAY_CONFIG)};const t=fs.readFileSync(f,"utf8").split("\n");const keep=(l)=>!l.trimStart().startsWith("//");const c=JSON.parse(t.filter(keep).join("\n"));c.commands={...c.commands,ownerAllowFrom:["telegram:4242"]};fs.writeFileSync(f,t.filter((l)=>!keep(l)).join("\n")+"\n"+JSON.stringify(c,null,2)+"\n")`;
    const edited = await c.h.exec(c.name, ["/usr/local/bin/node", "-e", edit]);
    expect(edited.exitCode, edited.stderr).toBe(0);
    // OpenClaw applies `commands` without a restart. Until it has, the help still comes back; a reply
    // lost while it reloads (seen on a loaded CI machine) is asked again, not taken for the refusal.
    let last = "";
    const refused = await until("the stranger's commands refused", async () => {
      last = await say("/nemoclaw help");
      return last.includes("requires authorization") ? last : undefined;
    }, 150_000).catch((e: Error) => {
      throw new Error(`${e.message}; the last reply: ${last.slice(0, 400)}`);
    });
    expect(refused).not.toContain("/nemoclaw approve <id> [always]");

    const t0 = Date.now();
    const call = c.getFromTools("stranger.sbx.test");
    const prompt = await c.promptFor("stranger.sbx.test", t0);
    const [held] = await c.pending("stranger.sbx.test");
    for (const text of [`/approve ${prompt.id} allow-once`, `/nemoclaw approve ${held!.id}`, `/nemoclaw approve ${held!.id} always`]) {
      expect(await say(text)).not.toMatch(/allow-(once|always) for|✅/);
    }
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await c.pending("stranger.sbx.test"))[0]).toMatchObject({ id: held!.id, status: "pending" });
    expect(c.resolved.find((r) => r.id === prompt.id)).toBeUndefined();
    // The owner (operator.admin) still runs the command: the refusal above is the sender's.
    expect(await c.say(`/nemoclaw deny ${held!.id}`)).toContain(`deny for ${held!.id}`);
    expect(refusal(await call).error).toBe("denied by operator");
    expect(await readFile(sandboxPolicyFile(c.h.stateDir, c.name), "utf8")).not.toContain("stranger.sbx.test");
  });

  // Last: the flood uses up the minute's new-destination budget (12).
  it("a flood of new destinations: all held, at most 8 prompts open, the rest wait on the host CLI", async () => {
    const t0 = Date.now();
    const script = `for(const h of ${JSON.stringify(FLOOD)})require("http").get({host:"127.0.0.1",port:3128,path:"http://"+h+"/",headers:{host:h}},(r)=>{r.resume();console.log(h+" "+r.statusCode)}).on("error",(e)=>console.log(h+" "+e.code))`;
    const flood = c.inTools(`/usr/local/bin/node -e '${script}'`);
    await until("the flood held", async () => {
      const { approvals } = (await controlRequest(c.h.stateDir, "POST", "/egress/approvals/list", {})) as { approvals: Array<{ host: string }> };
      return approvals.filter((a) => FLOOD.includes(a.host)).length === FLOOD.length ? true : undefined;
    });
    await until("the bridge to pass over some", () => (c.logs.some((l) => /not prompted/.test(l)) ? true : undefined), 10_000);
    const prompted = c.requested.filter((r) => r.at >= t0 && /flood\d+\.sbx\.test/.test(r.title));
    expect(prompted.length).toBeGreaterThan(0);
    expect(prompted.length).toBeLessThanOrEqual(8);
    // The host CLI denies them all; every prompt in the chat closes as denied.
    const { approvals } = (await controlRequest(c.h.stateDir, "POST", "/egress/approvals/list", {})) as { approvals: Array<{ id: string; host: string }> };
    for (const a of approvals.filter((x) => FLOOD.includes(x.host))) await controlRequest(c.h.stateDir, "POST", "/egress/approvals/decide", { id: a.id, decision: "deny" });
    const lines = (await flood).stdout.trim().split("\n").sort();
    expect(lines).toEqual(FLOOD.map((h) => `${h} 403`).sort());
    for (const p of prompted) expect((await until("the prompt closed", () => c.resolved.find((r) => r.id === p.id))).decision).toBe("deny");
  });
});
