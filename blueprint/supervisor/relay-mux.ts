// Both ends of the engine relay: connections multiplexed over one link (relay-frames.ts).
// Either end accepts connections and announces them (`open`); the other end connects each
// announced one to its one fixed target. The in-sandbox end announces the forwarder's
// connections (the host end connects them to the sandbox's proxy socket); the host end announces
// connections to a gateway sandbox's relay socket (the in-sandbox end connects them to the
// gateway's socket inside). Ids never collide: the in-sandbox end numbers odd, the host end even.
// Bytes are copied, never read.
//
// Sockets on both ends are half-open capable (`allowHalfOpen`): an `end` travels as a frame and
// the socket closes once both directions ended, so a reply after the client's FIN is not lost.
//
// Backpressure is link-wide: when the link cannot take more, every connection pauses; when a
// connection cannot take more, the link's input pauses until it drains or closes (or the other
// end closes it). One slow reader stalls the sandbox's other connections instead of growing a
// buffer; a connection that goes away full does not stall them for good.
import type net from "node:net";
import type { Readable, Writable } from "node:stream";
import { dataFrames, encodeFrame, FrameDecoder, FrameType, type Frame } from "./relay-frames.js";

export interface MuxLink {
  input: Readable;
  output: Writable;
}

export class RelayMux {
  readonly #link: MuxLink;
  readonly #sockets = new Map<number, net.Socket>();
  /** Connections whose write buffer is full: while any is, the link's input waits. */
  readonly #full = new Set<net.Socket>();
  readonly #decoder = new FrameDecoder();
  readonly #onOpen: ((id: number) => net.Socket | undefined) | undefined;
  readonly #onReady: (() => void) | undefined;
  readonly #onError: ((e: Error) => void) | undefined;
  #nextId: number;
  #closed = false;

  /**
   * `side`: which end this is (it decides the ids it numbers); `onOpen`: the connector for
   * connections the other end announces (none: they are refused); `onReady`: the in-sandbox end listens.
   */
  constructor(
    link: MuxLink,
    handlers: { side: "sandbox" | "host"; onOpen?: (id: number) => net.Socket | undefined; onReady?: () => void; onError?: (e: Error) => void },
  ) {
    this.#link = link;
    this.#nextId = handlers.side === "sandbox" ? 1 : 2;
    this.#onOpen = handlers.onOpen;
    this.#onReady = handlers.onReady;
    this.#onError = handlers.onError;
    link.input.on("data", (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk, (frame) => this.#frame(frame));
      } catch (e) {
        handlers.onError?.(e as Error);
        this.close();
      }
    });
    link.output.on("drain", () => {
      for (const socket of this.#sockets.values()) socket.resume();
    });
  }

  get size(): number {
    return this.#sockets.size;
  }

  #send(frame: Buffer): void {
    if (this.#closed) return;
    if (!this.#link.output.write(frame)) for (const socket of this.#sockets.values()) socket.pause();
  }

  /** The in-sandbox end: announce `ready` once listening. */
  ready(): void {
    this.#send(encodeFrame(FrameType.ready, 0));
  }

  /** Carry an accepted connection to the other end. */
  accept(socket: net.Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const id = this.#nextId;
    this.#nextId += 2;
    // Attached first: the other end's answer may come back before `#send` returns (a link that
    // delivers synchronously). The socket's data flows from the next tick, after the `open`.
    this.#attach(id, socket);
    this.#send(encodeFrame(FrameType.open, id));
  }

  #attach(id: number, socket: net.Socket): void {
    this.#sockets.set(id, socket);
    socket.on("data", (chunk: Buffer) => {
      for (const frame of dataFrames(id, chunk)) this.#send(frame);
    });
    socket.on("end", () => this.#send(encodeFrame(FrameType.end, id)));
    socket.on("drain", () => this.#unblock(socket));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      // A connection that closes with a full buffer never drains: it must not hold the link.
      this.#unblock(socket);
      if (this.#sockets.get(id) !== socket) return;
      this.#sockets.delete(id);
      this.#send(encodeFrame(FrameType.close, id));
    });
  }

  #frame(frame: Frame): void {
    const socket = this.#sockets.get(frame.id);
    switch (frame.type) {
      case FrameType.ready:
        this.#onReady?.();
        return;
      case FrameType.open: {
        // An id of our own numbering, or one in use, is no announcement the other end makes.
        if (frame.id % 2 === this.#nextId % 2 || socket) {
          this.#onError?.(new Error(`relay frame opens connection ${frame.id}, which is not the other end's to open`));
          this.close();
          return;
        }
        const connected = this.#onOpen?.(frame.id);
        if (connected) this.#attach(frame.id, connected);
        else this.#send(encodeFrame(FrameType.close, frame.id));
        return;
      }
      case FrameType.data:
        if (socket && !socket.destroyed && !socket.write(frame.payload)) {
          this.#full.add(socket);
          this.#link.input.pause();
        }
        return;
      case FrameType.end:
        socket?.end();
        return;
      case FrameType.close:
        if (!socket) return;
        this.#sockets.delete(frame.id);
        // Its peer is gone: whatever it still has to flush no longer holds the link.
        this.#unblock(socket);
        // What was already written still reaches the peer; then the socket goes.
        socket.end(() => socket.destroy());
        return;
    }
  }

  #unblock(socket: net.Socket): void {
    if (this.#full.delete(socket) && this.#full.size === 0) this.#link.input.resume();
  }

  /** Ends every connection (the link is gone or going). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets.values()) socket.destroy();
    this.#sockets.clear();
  }
}
