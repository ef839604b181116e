// Request-head deadlines. Node enforces `headersTimeout` only for servers that listen (its
// connection checker starts in listen()); the gateway's servers are fed sockets. And the
// keep-alive idle timer is reset by every byte, so a client trickling the head of its second
// request would hold the connection, and its slot under the connection cap, forever. So each
// connection gets its own clock: whenever it is ready for a request head — just opened, or its
// last response finished — the whole head must arrive within `ms`, or the connection is closed.

import type http from "node:http";
import type net from "node:net";

interface Clock {
  timer: NodeJS.Timeout | undefined;
  /** Requests whose head arrived and whose response is not finished. */
  open: number;
}

export class HeadDeadlines {
  private readonly ms: number;
  private readonly clocks = new WeakMap<net.Socket, Clock>();

  constructor(ms: number) {
    this.ms = ms;
  }

  /** The socket is about to be parsed: its first head is due within `ms`. */
  watch(socket: net.Socket): void {
    const clock: Clock = { timer: undefined, open: 0 };
    this.clocks.set(socket, clock);
    this.arm(socket, clock);
    socket.once("close", () => this.release(socket));
  }

  /** A head arrived: the clock stops until its response is finished, then runs for the next head. */
  request(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    const clock = this.clocks.get(socket);
    if (clock === undefined) return;
    clearTimeout(clock.timer);
    clock.open++;
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      clock.open--;
      if (clock.open === 0 && !socket.destroyed && this.clocks.get(socket) === clock) this.arm(socket, clock);
    };
    res.once("finish", end);
    res.once("close", end);
  }

  /** The socket leaves HTTP (a CONNECT tunnel) or closed: no more heads. */
  release(socket: net.Socket): void {
    clearTimeout(this.clocks.get(socket)?.timer);
    this.clocks.delete(socket);
  }

  private arm(socket: net.Socket, clock: Clock): void {
    clearTimeout(clock.timer);
    clock.timer = setTimeout(() => socket.destroy(), this.ms);
    clock.timer.unref();
  }
}
