import { describe, expect, it } from "vitest";
import { blockedRange, canonicalAddress, checkAddress, resolveHost } from "../../../blueprint/gateway/hard-blocks.js";

const RESERVED = "reserved for special use (documentation, benchmarking, relay or future use)";

describe("hard blocks", () => {
  it.each([
    ["127.0.0.1", "loopback"], ["127.255.0.9", "loopback"], ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"], ["::ffff:7f00:1", "loopback"], ["0:0:0:0:0:ffff:127.0.0.1", "loopback"],
    ["64:ff9b::127.0.0.1", "loopback"], ["::127.0.0.1", "loopback"], ["2002:7f00:1::", "loopback (6to4)"],
    ["169.254.169.254", "cloud metadata"], ["fd00:ec2::254", "cloud metadata"], ["::ffff:169.254.169.254", "cloud metadata"],
    ["169.254.1.1", "link-local"], ["fe80::1", "link-local"],
    ["10.1.2.3", "private"], ["172.16.0.1", "private"], ["172.31.255.255", "private"], ["192.168.1.1", "private"],
    ["fc00::1", "private (unique local)"], ["fd12:3456::1", "private (unique local)"],
    ["100.64.0.1", "carrier-grade NAT"], ["0.0.0.0", "unspecified"], ["::", "unspecified"], ["0.1.2.3", "unspecified (this network)"],
    ["224.0.0.1", "multicast"], ["ff02::1", "multicast"], ["255.255.255.255", "broadcast"], ["240.0.0.1", RESERVED],
  ])("%s is blocked as %s", (address, label) => {
    expect(blockedRange(address)).toBe(label);
    expect(checkAddress(address, undefined).allowed).toBe(false);
  });

  // Forms the hand-written tables missed (issue 7): each was public before ipaddr.js ranges.
  it.each([
    ["::ffff:0:127.0.0.1", "loopback (IPv4-translated)"], ["::ffff:0:7f00:1", "loopback (IPv4-translated)"],
    ["::ffff:0:8.8.8.8", "IPv4-translated"],
    ["64:ff9b:1::127.0.0.1", "loopback (local-use NAT64)"], ["64:ff9b:1::10.0.0.1", "private (local-use NAT64)"],
    ["64:ff9b:1::8.8.8.8", "local-use NAT64"],
    // Teredo: server 8.8.8.8, client 127.0.0.1 stored inverted (80ff:fffe)
    ["2001:0:808:808::80ff:fffe", "loopback (Teredo)"],
    // Teredo: server 10.0.0.1, client 8.8.4.4
    ["2001:0:a00:1::f7f7:fbfb", "private (Teredo)"],
    ["2001:0:808:808::f7f7:fbfb", "Teredo"],
    ["2001:db8::1", RESERVED], ["2001:db8:ffff::2", RESERVED],
    ["192.0.2.1", RESERVED], ["198.51.100.7", RESERVED], ["203.0.113.9", RESERVED],
    ["192.88.99.1", RESERVED], ["198.18.0.1", RESERVED], ["198.19.255.255", RESERVED],
    ["::ffff:203.0.113.9", RESERVED], ["2002:c000:201::", `${RESERVED} (6to4)`],
    ["100.100.100.200", "cloud metadata"], ["192.0.0.192", "cloud metadata"], ["::ffff:100.100.100.200", "cloud metadata"],
    ["2001:2::1", "benchmarking"], ["4000::1", "unassigned (outside global unicast 2000::/3)"],
  ])("%s is now blocked as %s", (address, label) => {
    expect(blockedRange(address)).toBe(label);
    expect(checkAddress(address, undefined)).toEqual({ allowed: false, reason: expect.stringContaining(label) });
  });

  it.each([
    ["100.100.100.200", ["100.64.0.0/10"]], ["192.0.0.192", ["192.0.0.0/24"]], ["::ffff:100.100.100.200", ["100.100.100.200/32"]],
    // 6to4 and Teredo carrying a metadata address, under an allowed_ips that covers the IPv6 form
    ["2002:a9fe:a9fe::", ["2002::/16"]], ["2001:0:808:808::5601:5601", ["2001::/32"]],
  ])("%s is never allowed, even with allowed_ips %j", (address, allowedIps) => {
    expect(checkAddress(address, allowedIps)).toEqual({ allowed: false, reason: expect.stringMatching(/cloud metadata.* address, never reachable$/) });
  });

  it("an IPv6 transition address reaches only what allowed_ips names in IPv6 form", () => {
    // listing 127.0.0.1 does not open 6to4 / IPv4-translated spellings of it (they are other addresses)
    expect(checkAddress("2002:7f00:1::", ["127.0.0.1/32"]).allowed).toBe(false);
    expect(checkAddress("::ffff:0:127.0.0.1", ["127.0.0.1/32"]).allowed).toBe(false);
    expect(checkAddress("64:ff9b:1::a00:1", ["64:ff9b:1::/48"]).allowed).toBe(true);
    // mapped and well-known NAT64 entries are the IPv4 ranges they spell
    expect(checkAddress("10.1.2.3", ["::ffff:10.0.0.0/104"]).allowed).toBe(true);
    expect(checkAddress("127.0.0.1", ["64:ff9b::7f00:1"]).allowed).toBe(true);
    expect(checkAddress("127.0.0.2", ["64:ff9b::7f00:1"]).allowed).toBe(false);
  });

  it.each(["93.184.215.14", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "100.128.0.1", "198.20.0.1", "192.0.3.1"])("%s is public", (address) => {
    expect(blockedRange(address)).toBeUndefined();
    expect(checkAddress(address, undefined).allowed).toBe(true);
  });

  it("allowed_ips lifts range blocks for the listed addresses only", () => {
    expect(checkAddress("127.0.0.1", ["127.0.0.1/32"]).allowed).toBe(true);
    expect(checkAddress("::ffff:127.0.0.1", ["127.0.0.1/32"]).allowed).toBe(true);
    expect(checkAddress("127.0.0.2", ["127.0.0.1/32"]).allowed).toBe(false);
    expect(checkAddress("10.0.0.5", ["10.0.0.0/8"]).allowed).toBe(true);
    // with allowed_ips, a public address outside them is refused too
    expect(checkAddress("8.8.8.8", ["10.0.0.0/8"]).allowed).toBe(false);
  });

  it("never allows metadata or unspecified, whatever allowed_ips says", () => {
    expect(checkAddress("169.254.169.254", ["169.254.0.0/16"]).allowed).toBe(false);
    expect(checkAddress("0.0.0.0", ["0.0.0.0/8"]).allowed).toBe(false);
  });

  it("canonicalises addresses", () => {
    expect(canonicalAddress("::FFFF:7F00:0001")).toBe("127.0.0.1");
    expect(canonicalAddress("2001:DB8:0:0:0:0:0:1")).toBe("2001:db8::1");
    expect(canonicalAddress("::1")).toBe("::1");
  });

  it("resolves through the host-map first and never through DNS for mapped names", async () => {
    expect(await resolveHost("api.test", { "api.test": "127.0.0.1" })).toEqual(["127.0.0.1"]);
    expect(await resolveHost("multi.test", { "multi.test": ["::ffff:10.0.0.1", "8.8.8.8"] })).toEqual(["10.0.0.1", "8.8.8.8"]);
    expect(await resolveHost("203.0.113.1")).toEqual(["203.0.113.1"]);
  });
});
