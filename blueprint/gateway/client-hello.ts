// Just enough of TLS to read the server name a client asks for, without terminating: the
// ClientHello is reassembled from the handshake records at the start of a tunnel (clients may
// fragment it across records) and its server_name extension read (RFC 8446 §4.1.2, RFC 6066 §3).
// Nothing is decrypted or changed; the bytes are forwarded as they came once they pass.

/** Largest ClientHello we wait for; post-quantum key shares make ~2 KiB common, 64 KiB is ample. */
export const MAX_CLIENT_HELLO = 64 * 1024;

export type ClientHelloPeek =
  | { state: "need-more" }
  /** The first byte is not a TLS handshake record: some other protocol. */
  | { state: "not-tls" }
  | { state: "malformed"; reason: string }
  /** `sni` is null when the hello carries no host_name. */
  | { state: "hello"; sni: string | null };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;

/**
 * Reads the ClientHello at the start of `data` (everything the client sent so far). The caller
 * bounds how much it buffers while this says `need-more` (MAX_CLIENT_HELLO plus record headers).
 */
export function peekClientHello(data: Buffer): ClientHelloPeek {
  if (data.length === 0) return { state: "need-more" };
  if (data[0] !== RECORD_HANDSHAKE) return { state: "not-tls" };
  // Reassemble handshake bytes from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let offset = 0;
  let wanted: number | undefined;
  while (wanted === undefined || have < wanted) {
    if (data.length < offset + 5) return { state: "need-more" };
    if (data[offset] !== RECORD_HANDSHAKE) return { state: "malformed", reason: "ClientHello interrupted by a non-handshake record" };
    if (data[offset + 1] !== 0x03) return { state: "malformed", reason: "TLS record has an unknown version" };
    const length = data.readUInt16BE(offset + 3);
    if (length === 0 || length > 16384 + 2048) return { state: "malformed", reason: "TLS record length out of range" };
    if (data.length < offset + 5 + length) return { state: "need-more" };
    parts.push(data.subarray(offset + 5, offset + 5 + length));
    have += length;
    offset += 5 + length;
    if (wanted === undefined && have >= 4) {
      const head = Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { state: "malformed", reason: "first handshake message is not a ClientHello" };
      wanted = 4 + head.readUIntBE(1, 3);
      if (wanted > MAX_CLIENT_HELLO) return { state: "malformed", reason: "ClientHello too large" };
    }
  }
  return readServerName(Buffer.concat(parts).subarray(4, wanted));
}

function readServerName(hello: Buffer): ClientHelloPeek {
  const bad = (reason: string): ClientHelloPeek => ({ state: "malformed", reason: `ClientHello is malformed (${reason})` });
  let p = 2 + 32; // legacy_version, random
  if (hello.length < p + 1) return bad("truncated before session id");
  p += 1 + (hello[p] ?? 0);
  if (hello.length < p + 2) return bad("truncated before cipher suites");
  p += 2 + hello.readUInt16BE(p);
  if (hello.length < p + 1) return bad("truncated before compression methods");
  p += 1 + (hello[p] ?? 0);
  if (hello.length === p) return { state: "hello", sni: null }; // no extensions at all
  if (hello.length < p + 2) return bad("truncated extensions");
  const end = p + 2 + hello.readUInt16BE(p);
  if (end !== hello.length) return bad("extensions length does not match");
  p += 2;
  let sni: string | null = null;
  let seen = false;
  while (p < end) {
    if (end < p + 4) return bad("truncated extension");
    const type = hello.readUInt16BE(p);
    const length = hello.readUInt16BE(p + 2);
    const body = hello.subarray(p + 4, p + 4 + length);
    if (body.length !== length) return bad("truncated extension");
    p += 4 + length;
    if (type !== EXT_SERVER_NAME) continue;
    // Two server_name extensions could be read differently by different servers.
    if (seen) return bad("two server_name extensions");
    seen = true;
    if (body.length < 2 || body.readUInt16BE(0) !== body.length - 2) return bad("server_name list length");
    let q = 2;
    while (q < body.length) {
      if (body.length < q + 3) return bad("truncated server name");
      const nameType = body[q];
      const nameLength = body.readUInt16BE(q + 1);
      const name = body.subarray(q + 3, q + 3 + nameLength);
      if (name.length !== nameLength) return bad("truncated server name");
      q += 3 + nameLength;
      if (nameType !== NAME_TYPE_HOST) continue;
      if (sni !== null) return bad("two host names");
      sni = name.toString("latin1");
    }
  }
  return { state: "hello", sni };
}
