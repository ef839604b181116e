import { describe, expect, it } from "vitest";
import { blockedRange, canonicalAddress, checkAddress, resolveHost } from "../../../blueprint/gateway/hard-blocks.js";

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
    ["224.0.0.1", "multicast"], ["ff02::1", "multicast"], ["255.255.255.255", "reserved or broadcast"],
  ])("%s is blocked as %s", (address, label) => {
    expect(blockedRange(address)).toBe(label);
    expect(checkAddress(address, undefined).allowed).toBe(false);
  });

  it.each(["93.184.215.14", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "100.128.0.1"])("%s is public", (address) => {
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
