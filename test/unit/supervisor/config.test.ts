import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../blueprint/supervisor/supervisor.js";
import { socketInode } from "../../../blueprint/supervisor/identify.js";

const valid = {
  launcher: ["/usr/local/lib/nemoclaw/landlock-exec", "--", "sleep", "1"],
  env: { PATH: "/usr/bin" },
  forwarder: { host: "127.0.0.1", port: 3128, socket: "/run/nemoclaw/proxy.sock", program: "/usr/local/lib/nemoclaw/egress-forwarder" },
  caller: { uid: 1000, gid: 1000 },
  secret: "ab".repeat(32),
};

describe("supervisor configuration", () => {
  it("takes the caller secret along", () => {
    expect(parseConfig(JSON.stringify(valid)).secret).toBe("ab".repeat(32));
  });

  it.each([
    ["missing", undefined],
    ["short", "ab".repeat(31)],
    ["not hex", "zz".repeat(32)],
  ])("refuses a %s secret, saying what to do", (_what, secret) => {
    expect(() => parseConfig(JSON.stringify({ ...valid, secret }))).toThrow(/config\.secret must be the sandbox's caller secret .*destroy and create the sandbox again/);
  });

  it("takes a seed file along, and refuses one without an absolute path and content", () => {
    expect(parseConfig(JSON.stringify(valid)).seed).toBeUndefined();
    const seed = { path: "/sandbox/.openclaw/openclaw.json", content: "{}\n" };
    expect(parseConfig(JSON.stringify({ ...valid, seed })).seed).toEqual(seed);
    expect(() => parseConfig(JSON.stringify({ ...valid, seed: { path: "sandbox/x", content: "" } }))).toThrow(/config\.seed must give an absolute path and the content/);
    expect(() => parseConfig(JSON.stringify({ ...valid, seed: { path: "/sandbox/x" } }))).toThrow(/config\.seed must give an absolute path and the content/);
  });
});

describe("socketInode", () => {
  const table = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0100007F:0C38 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0",
    "   1: 0100007F:A1B2 0100007F:0C38 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0",
    "   2: 0100007F:0C38 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0",
  ].join("\n");
  it("finds the client side of a connection to the forwarder, not the server side", () => {
    expect(socketInode(0xa1b2, 3128, [table])).toBe("222");
    expect(socketInode(0xa1b3, 3128, [table])).toBeUndefined();
  });
});
