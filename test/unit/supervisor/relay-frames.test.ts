import net from "node:net";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { dataFrames, encodeFrame, FrameDecoder, FrameType, MAX_PAYLOAD, type Frame } from "../../../blueprint/supervisor/relay-frames.js";
import { RelayMux } from "../../../blueprint/supervisor/relay-mux.js";

describe("engine relay frames", () => {
  it("reassemble from any split, byte by byte included", () => {
    const wire = Buffer.concat([encodeFrame(FrameType.open, 7), ...dataFrames(7, Buffer.from("hello")), encodeFrame(FrameType.end, 7), encodeFrame(FrameType.close, 7)]);
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    for (const byte of wire) decoder.push(Buffer.from([byte]), (f) => frames.push(f));
    expect(frames.map((f) => [f.type, f.id, f.payload.toString()])).toEqual([
      [FrameType.open, 7, ""],
      [FrameType.data, 7, "hello"],
      [FrameType.end, 7, ""],
      [FrameType.close, 7, ""],
    ]);
  });

  it("split large chunks at the payload limit, and refuse a frame no sender writes", () => {
    const frames = dataFrames(1, Buffer.alloc(MAX_PAYLOAD * 2 + 1));
    expect(frames.map((f) => f.length - 9)).toEqual([MAX_PAYLOAD, MAX_PAYLOAD, 1]);
    const huge = Buffer.alloc(9);
    huge.writeUInt8(FrameType.data, 0);
    huge.writeUInt32BE(MAX_PAYLOAD + 1, 5);
    expect(() => new FrameDecoder().push(huge, () => {})).toThrow(/at most/);
    expect(() => new FrameDecoder().push(Buffer.alloc(9, 0x63), () => {})).toThrow(/unknown type/);
  });
});

describe("engine relay mux over a link", () => {
  it("carries a connection both ways, half-closes and closes, bytes unchanged", async () => {
    // host end: every announced connection goes to an echo server that upper-cases
    const echo = net.createServer((s) => s.on("data", (d: Buffer) => s.write(d.toString().toUpperCase())).on("end", () => s.end()));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const port = (echo.address() as net.AddressInfo).port;
    const toHost = new PassThrough();
    const toRelay = new PassThrough();
    let ready = false;
    const host = new RelayMux({ input: toHost, output: toRelay }, { side: "host", onOpen: () => net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }), onReady: () => (ready = true) });
    const relay = new RelayMux({ input: toRelay, output: toHost }, { side: "sandbox" });
    relay.ready();
    const inner = net.createServer({ allowHalfOpen: true }, (s) => relay.accept(s));
    await new Promise<void>((r) => inner.listen(0, "127.0.0.1", r));
    const client = net.connect((inner.address() as net.AddressInfo).port, "127.0.0.1");
    const got: Buffer[] = [];
    client.on("data", (d: Buffer) => got.push(d));
    client.write("preamble\n\u00ffbinary");
    client.end();
    await new Promise((r) => client.on("close", r));
    expect(ready).toBe(true);
    expect(Buffer.concat(got).toString()).toBe("PREAMBLE\n\u0178BINARY");
    await new Promise((r) => setTimeout(r, 50));
    expect(host.size).toBe(0);
    expect(relay.size).toBe(0);
    inner.close();
    echo.close();
  });

  it("carries connections the host end accepts to the in-sandbox end's target, alongside the other direction", async () => {
    const upper = (s: net.Socket) => s.on("data", (d: Buffer) => s.write(d.toString().toUpperCase())).on("end", () => s.end());
    const lower = (s: net.Socket) => s.on("data", (d: Buffer) => s.write(d.toString().toLowerCase())).on("end", () => s.end());
    const proxy = net.createServer(upper);
    const gateway = net.createServer(lower);
    await Promise.all([proxy, gateway].map((srv) => new Promise<void>((r) => srv.listen(0, "127.0.0.1", r))));
    const portOf = (srv: net.Server) => (srv.address() as net.AddressInfo).port;
    const toHost = new PassThrough();
    const toRelay = new PassThrough();
    const host = new RelayMux({ input: toHost, output: toRelay }, { side: "host", onOpen: () => net.connect({ port: portOf(proxy), host: "127.0.0.1", allowHalfOpen: true }) });
    const relay = new RelayMux({ input: toRelay, output: toHost }, { side: "sandbox", onOpen: () => net.connect({ port: portOf(gateway), host: "127.0.0.1", allowHalfOpen: true }) });
    const onHost = net.createServer({ allowHalfOpen: true }, (s) => host.accept(s));
    const inSandbox = net.createServer({ allowHalfOpen: true }, (s) => relay.accept(s));
    await Promise.all([onHost, inSandbox].map((srv) => new Promise<void>((r) => srv.listen(0, "127.0.0.1", r))));
    const roundTrip = async (port: number, text: string) => {
      const client = net.connect(port, "127.0.0.1");
      const got: Buffer[] = [];
      client.on("data", (d: Buffer) => got.push(d));
      client.end(text);
      await new Promise((r) => client.on("close", r));
      return Buffer.concat(got).toString();
    };
    // Interleaved both ways: ids numbered by each end never collide.
    const answers = await Promise.all([roundTrip(portOf(onHost), "To The GATEWAY"), roundTrip(portOf(inSandbox), "to the proxy"), roundTrip(portOf(onHost), "AGAIN")]);
    expect(answers).toEqual(["to the gateway", "TO THE PROXY", "again"]);
    for (const srv of [proxy, gateway, onHost, inSandbox]) srv.close();
  });

  it("an end that accepts nothing refuses announcements; an id of the receiver's own numbering breaks the link", async () => {
    const toHost = new PassThrough();
    const toRelay = new PassThrough();
    const errors: string[] = [];
    const host = new RelayMux({ input: toHost, output: toRelay }, { side: "host", onError: (e) => errors.push(e.message) });
    const relay = new RelayMux({ input: toRelay, output: toHost }, { side: "sandbox" });
    // The host end announces a connection; the in-sandbox end has no target: it answers close.
    const refused = new Promise<Buffer>((r) => toHost.once("data", r));
    const [a, b] = await new Promise<[net.Socket, net.Socket]>((resolve) => {
      const srv = net.createServer((s) => {
        srv.close();
        resolve([client, s]);
      });
      let client: net.Socket;
      srv.listen(0, "127.0.0.1", () => (client = net.connect((srv.address() as net.AddressInfo).port, "127.0.0.1")));
    });
    host.accept(b);
    const frame = await refused;
    expect([frame.readUInt8(0), frame.readUInt32BE(1)]).toEqual([FrameType.close, 2]);
    await new Promise((r) => b.once("close", r));
    a.destroy();
    // A forged open with an even id (the host end's own numbering) towards the host end.
    toHost.write(encodeFrame(FrameType.open, 4));
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(["relay frame opens connection 4, which is not the other end's to open"]);
    expect(relay.size).toBe(0);
  }, 10_000);

  it("a connection that closes with a full write buffer does not stall the link for the others", async () => {
    // The host end's target: the first connection is never read and then dropped; later ones echo.
    let first = true;
    let dropFirst: () => void = () => {};
    const target = net.createServer((s) => {
      if (first) {
        first = false;
        s.pause();
        dropFirst = () => s.destroy();
        return;
      }
      s.on("data", (d: Buffer) => s.write(d)).on("end", () => s.end());
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const toHost = new PassThrough();
    const toRelay = new PassThrough();
    new RelayMux({ input: toHost, output: toRelay }, { side: "host", onOpen: () => net.connect({ port: (target.address() as net.AddressInfo).port, host: "127.0.0.1", allowHalfOpen: true }) });
    const relay = new RelayMux({ input: toRelay, output: toHost }, { side: "sandbox" });
    const inner = net.createServer({ allowHalfOpen: true }, (s) => relay.accept(s));
    await new Promise<void>((r) => inner.listen(0, "127.0.0.1", r));
    const port = (inner.address() as net.AddressInfo).port;
    // 64 MiB towards a reader that never reads: the host end's socket fills, the link's input pauses.
    const flood = net.connect(port, "127.0.0.1");
    flood.on("error", () => {});
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 64; i++) flood.write(chunk);
    await new Promise((r) => setTimeout(r, 500));
    dropFirst();
    const client = net.connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    client.on("data", (d: Buffer) => got.push(d));
    client.end("still carried");
    await new Promise((r) => client.on("close", r));
    expect(Buffer.concat(got).toString()).toBe("still carried");
    flood.destroy();
    inner.close();
    target.close();
  }, 20_000);
});
