// The framing of the engine relay (docs/architecture.md, "Remote engines"): many connections
// over one byte stream (a Docker exec's stdin and stdout). A frame is a 9-byte header — type,
// connection id (u32), payload length (u32), big-endian — then the payload. Node built-ins only:
// the in-sandbox end is part of the sealed supervisor.

export const FrameType = {
  /** The sender accepted connection `id` (either end; the in-sandbox end numbers odd, the host end even). */
  open: 1,
  data: 2,
  /** The sender will write no more on `id` (half close). */
  end: 3,
  /** `id` is gone (either side). */
  close: 4,
  /** The relay listens (relay → host, id 0). */
  ready: 5,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameType;
  id: number;
  payload: Buffer;
}

const HEADER = 9;
/** Larger payloads are split by the sender; a bigger length is a broken stream. */
export const MAX_PAYLOAD = 256 * 1024;

export function encodeFrame(type: FrameType, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(id, 1);
  header.writeUInt32BE(payload.length, 5);
  return payload.length ? Buffer.concat([header, payload]) : header;
}

/** Data frames for `chunk`, split at MAX_PAYLOAD. */
export function dataFrames(id: number, chunk: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < chunk.length; at += MAX_PAYLOAD) out.push(encodeFrame(FrameType.data, id, chunk.subarray(at, at + MAX_PAYLOAD)));
  return out;
}

/** Reassembles frames from arbitrary chunks; throws on a frame no sender of ours would write. */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= HEADER) {
      const type = this.#buffer.readUInt8(0);
      const length = this.#buffer.readUInt32BE(5);
      if (type < FrameType.open || type > FrameType.ready) throw new Error(`relay frame of unknown type ${type}`);
      if (length > MAX_PAYLOAD) throw new Error(`relay frame of ${length} bytes (at most ${MAX_PAYLOAD})`);
      if (this.#buffer.length < HEADER + length) return;
      const frame = { type: type as FrameType, id: this.#buffer.readUInt32BE(1), payload: Buffer.from(this.#buffer.subarray(HEADER, HEADER + length)) };
      this.#buffer = this.#buffer.subarray(HEADER + length);
      onFrame(frame);
    }
  }
}
