// The SNI peek reads a real ClientHello (from Node's own TLS client), whole or fragmented.
import net from "node:net";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { peekClientHello } from "../../../blueprint/gateway/client-hello.js";

/** The first flight a real TLS client sends for `servername` ("" = no SNI). */
async function clientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => server.once("connection", (s) => s.once("data", (c: Buffer) => {
    resolve(c);
    s.destroy();
  })));
  const client = tls.connect({ host: "127.0.0.1", port, servername });
  client.on("error", () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

/** The same handshake bytes re-framed as records of at most `size` bytes each. */
function fragment(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const records: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size);
    records.push(Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part);
  }
  return Buffer.concat(records);
}

describe("peekClientHello", () => {
  it("reads the server name, and says when there is none", async () => {
    expect(peekClientHello(await clientHello("api.example.test"))).toEqual({ state: "hello", sni: "api.example.test" });
    expect(peekClientHello(await clientHello(""))).toEqual({ state: "hello", sni: null });
  });

  it("reassembles a hello split into 1-byte records, and waits while it is incomplete", async () => {
    const split = fragment(await clientHello("api.example.test"), 1);
    expect(peekClientHello(split)).toEqual({ state: "hello", sni: "api.example.test" });
    expect(peekClientHello(split.subarray(0, split.length - 1))).toEqual({ state: "need-more" });
    expect(peekClientHello(split.subarray(0, 3))).toEqual({ state: "need-more" });
  });

  it("passes other protocols, refuses broken or interleaved handshakes", async () => {
    expect(peekClientHello(Buffer.from("GET / HTTP/1.1\r\n"))).toEqual({ state: "not-tls" });
    expect(peekClientHello(Buffer.from("SSH-2.0-OpenSSH_9.6\r\n"))).toEqual({ state: "not-tls" });
    const hello = await clientHello("api.example.test");
    const interleaved = Buffer.concat([fragment(hello, 10).subarray(0, 15), Buffer.from([0x17, 0x03, 0x03, 0x00, 0x01, 0x00])]);
    expect(peekClientHello(interleaved)).toMatchObject({ state: "malformed", reason: expect.stringMatching(/non-handshake record/) });
    const notHello = Buffer.from(hello);
    notHello[5] = 0x02; // ServerHello where a ClientHello must be
    expect(peekClientHello(notHello)).toMatchObject({ state: "malformed", reason: expect.stringMatching(/not a ClientHello/) });
    const truncated = Buffer.from(hello);
    truncated.writeUIntBE(hello.readUInt16BE(3) - 4 - 10, 6, 3); // handshake shorter than its extensions say
    expect(peekClientHello(truncated)).toMatchObject({ state: "malformed" });
  });
});
