import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CallerSecretError, parsePreamble, readPreamble, secretCheck } from "../../../blueprint/gateway/caller.js";
import { formatPreamble, MAX_PREAMBLE_BYTES, unidentifiedCaller } from "../../../blueprint/supervisor/caller-preamble.js";

const SECRET = "ab".repeat(32);
const secret = secretCheck(SECRET);
const valid = { pid: 1, exe: "/x", sha256: "f".repeat(64), ancestors: [], unidentified: null };

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A socket pair over loopback TCP: what the client writes, readPreamble reads. */
async function pair(): Promise<{ client: net.Socket; server: net.Socket }> {
  return new Promise((resolve) => {
    const srv = net.createServer((server) => resolve({ client, server }));
    servers.push(srv);
    let client: net.Socket;
    srv.listen(0, "127.0.0.1", () => {
      client = net.connect((srv.address() as net.AddressInfo).port, "127.0.0.1");
    });
  });
}

describe("caller preamble", () => {
  it("round-trips and keeps the bytes after the newline", async () => {
    const { client, server } = await pair();
    const caller = { pid: 5, exe: "/usr/bin/curl", sha256: "0".repeat(64), ancestors: ["/bin/sh"], unidentified: null };
    client.write(`${formatPreamble(SECRET, caller)}CONNECT a:443 HTTP/1.1\r\n`);
    const got = await readPreamble(server, { secret });
    expect(got.caller).toEqual(caller);
    expect(got.rest.toString()).toBe("CONNECT a:443 HTTP/1.1\r\n");
    client.destroy();
  });

  it("reads a preamble split across packets", async () => {
    const { client, server } = await pair();
    const line = formatPreamble(SECRET, unidentifiedCaller("no holder"));
    client.write(line.slice(0, 10));
    setTimeout(() => client.write(line.slice(10)), 20);
    expect((await readPreamble(server, { secret })).caller).toMatchObject({ exe: null, unidentified: "no holder" });
    client.destroy();
  });

  it.each([
    ["GET / HTTP/1.1\r\n\r\n", /did not start with a caller preamble/],
    [`NEMOCLAW-CALLER ${JSON.stringify(valid)}\n`, /carries no caller secret/],
    [`NEMOCLAW-CALLER ${"cd".repeat(32)} ${JSON.stringify(valid)}\n`, /caller secret does not match/],
    [`NEMOCLAW-CALLER ${SECRET.slice(2)} ${JSON.stringify(valid)}\n`, /carries no caller secret/],
    [`NEMOCLAW-CALLER ${SECRET} {"pid":1}\n`, /malformed/],
    [`NEMOCLAW-CALLER ${SECRET} ${JSON.stringify({ ...valid, exe: "relative" })}\n`, /malformed/],
    [`NEMOCLAW-CALLER ${SECRET} ${JSON.stringify({ ...valid, sha256: null })}\n`, /malformed/],
    [`NEMOCLAW-CALLER ${SECRET} ${JSON.stringify({ ...valid, extra: 1 })}\n`, /malformed/],
    [`NEMOCLAW-CALLER ${SECRET} not json\n`, /malformed/],
  ])("refuses %j", async (text, message) => {
    const { client, server } = await pair();
    client.write(text);
    await expect(readPreamble(server, { secret })).rejects.toThrow(message);
    client.destroy();
  });

  it("refuses an oversized preamble without waiting for a newline", async () => {
    const { client, server } = await pair();
    client.write(`NEMOCLAW-CALLER ${"x".repeat(MAX_PREAMBLE_BYTES)}`);
    await expect(readPreamble(server, { secret })).rejects.toThrow(/longer than/);
    client.destroy();
  });

  it("times out a silent client", async () => {
    const { client, server } = await pair();
    await expect(readPreamble(server, { secret, timeoutMs: 50 })).rejects.toThrow(/within 50 ms/);
    client.destroy();
  });

  it("parsePreamble rejects lines without the prefix", () => {
    expect(() => parsePreamble('{"pid":1,"exe":null,"ancestors":[]}', secret)).toThrow(/preamble/);
  });

  it("checks the secret before it looks at the rest of the line", () => {
    let checked = 0;
    const spy = (presented: Buffer): boolean => (checked++, secret(presented));
    expect(() => parsePreamble(`NEMOCLAW-CALLER ${"cd".repeat(32)} not json`, spy)).toThrow(CallerSecretError);
    expect(checked).toBe(1);
  });
});
