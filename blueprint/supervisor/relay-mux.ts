// Both ends of the engine relay: connections multiplexed over one link (relay-frames.ts).
// The in-sandbox end accepts connections and announces them (`open`); the host end connects
// each announced one to the sandbox's proxy socket. Bytes are copied, never read.
//
// Sockets on both ends are half-open capable (`allowHalfOpen`): an `end` travels as a frame and
// the socket closes once both directions ended, so a reply after the client's FIN is not lost.
//
// Backpressure is link-wide: when the link cannot take more, every connection pauses; when a
// connection cannot take more, the link's input pauses. One slow reader stalls the sandbox's
// other connections instead of growing a buffer.
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
  readonly #decoder = new FrameDecoder();
  readonly #onOpen: ((id: number) => net.Socket | undefined) | undefined;
  readonly #onReady: (() => void) | undefined;
  #nextId = 1;
  #closed = false;

  /** `onOpen`: the host end's connector for announced connections; `onReady`: the relay listens. */
  constructor(link: MuxLink, handlers: { onOpen?: (id: number) => net.Socket | undefined; onReady?: () => void; onError?: (e: Error) => void } = {}) {
    this.#link = link;
    this.#onOpen = handlers.onOpen;
    this.#onReady = handlers.onReady;
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

  /** The in-sandbox end: carry an accepted connection. */
  accept(socket: net.Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const id = this.#nextId++;
    this.#send(encodeFrame(FrameType.open, id));
    this.#attach(id, socket);
  }

  #attach(id: number, socket: net.Socket): void {
    this.#sockets.set(id, socket);
    socket.on("data", (chunk: Buffer) => {
      for (const frame of dataFrames(id, chunk)) this.#send(frame);
    });
    socket.on("end", () => this.#send(encodeFrame(FrameType.end, id)));
    socket.on("drain", () => this.#link.input.resume());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
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
        const connected = this.#onOpen?.(frame.id);
        if (connected) this.#attach(frame.id, connected);
        else this.#send(encodeFrame(FrameType.close, frame.id));
        return;
      }
      case FrameType.data:
        if (socket && !socket.write(frame.payload)) this.#link.input.pause();
        return;
      case FrameType.end:
        socket?.end();
        return;
      case FrameType.close:
        if (!socket) return;
        this.#sockets.delete(frame.id);
        // What was already written still reaches the peer; then the socket goes.
        socket.end(() => socket.destroy());
        return;
    }
  }

  /** Ends every connection (the link is gone or going). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets.values()) socket.destroy();
    this.#sockets.clear();
  }
}
