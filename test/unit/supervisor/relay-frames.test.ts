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
    const host = new RelayMux({ input: toHost, output: toRelay }, { onOpen: () => net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }), onReady: () => (ready = true) });
    const relay = new RelayMux({ input: toRelay, output: toHost });
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
});
