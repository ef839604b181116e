// Hard blocks: addresses the proxy never connects to unless an endpoint names them in
// `allowed_ips` — loopback, link-local, private, carrier-grade NAT, unspecified, multicast,
// reserved — and the cloud metadata service, never at all. Applied to the address actually
// connected to (we connect by IP after resolving), so a name that rebinds to 127.0.0.1 after
// the policy check gains nothing. Names are resolved only after the policy allowed them.

import { lookup } from "node:dns/promises";
import { BlockList, isIP, isIPv4 } from "node:net";

type Family = "ipv4" | "ipv6";

const BLOCKED: Array<[string, number, Family, string]> = [
  ["0.0.0.0", 8, "ipv4", "unspecified (this network)"],
  ["10.0.0.0", 8, "ipv4", "private"],
  ["100.64.0.0", 10, "ipv4", "carrier-grade NAT"],
  ["127.0.0.0", 8, "ipv4", "loopback"],
  ["169.254.0.0", 16, "ipv4", "link-local"],
  ["172.16.0.0", 12, "ipv4", "private"],
  ["192.0.0.0", 24, "ipv4", "IETF protocol assignments"],
  ["192.168.0.0", 16, "ipv4", "private"],
  ["198.18.0.0", 15, "ipv4", "benchmarking"],
  ["224.0.0.0", 4, "ipv4", "multicast"],
  ["240.0.0.0", 4, "ipv4", "reserved or broadcast"],
  ["::", 128, "ipv6", "unspecified"],
  ["::1", 128, "ipv6", "loopback"],
  ["fc00::", 7, "ipv6", "private (unique local)"],
  ["fe80::", 10, "ipv6", "link-local"],
  ["fec0::", 10, "ipv6", "site-local"],
  ["ff00::", 8, "ipv6", "multicast"],
  ["100::", 64, "ipv6", "discard"],
];
const NEVER = new Set(["169.254.169.254", "fd00:ec2::254", "0.0.0.0", "::"]);

const blockLists = BLOCKED.map(([address, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return { list, family, label };
});

function parseIpv6Groups(address: string): number[] | undefined {
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const maybeV4 = text.slice(lastColon + 1);
  if (isIPv4(maybeV4)) {
    const [a = 0, b = 0, c = 0, d = 0] = maybeV4.split(".").map(Number);
    tail = [(a << 8) | b, (c << 8) | d];
    text = `${text.slice(0, lastColon + 1)}0:0`;
    tail.length = 2;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] => (part === undefined || part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const head = parse(halves[0]);
  const back = parse(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - back.length : 0;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...back];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  if (tail.length === 2) {
    groups[6] = tail[0] ?? 0;
    groups[7] = tail[1] ?? 0;
  }
  return groups;
}

function v4FromGroups(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The canonical text of an address: IPv4 dotted quad, IPv6 lower-case compressed, and IPv6
 * forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64
 * `64:ff9b::/96`) reduced to that IPv4 address, so a block on 127.0.0.0/8 cannot be dodged.
 */
export function canonicalAddress(address: string): string {
  if (isIPv4(address)) return address.split(".").map((o) => String(Number(o))).join(".");
  const groups = parseIpv6Groups(address.toLowerCase());
  if (groups === undefined) return address.toLowerCase();
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const zeroHead = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroHead && g5 === 0xffff) return v4FromGroups(g6, g7);
  if (zeroHead && g5 === 0 && (g6 !== 0 || g7 > 1)) return v4FromGroups(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4FromGroups(g6, g7);
  // Compress the longest run of zero groups.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

function familyOf(address: string): Family {
  return isIPv4(address) ? "ipv4" : "ipv6";
}

const entryLists = new Map<string, { list: BlockList; family: Family } | null>();

/** One `allowed_ips` entry as a BlockList, built once (they are checked on every request). */
function entryList(entry: string): { list: BlockList; family: Family } | null {
  let cached = entryLists.get(entry);
  if (cached === undefined) {
    const [base = "", prefixText] = entry.split("/");
    if (isIP(base) === 0) {
      cached = null;
    } else {
      const list = new BlockList();
      const family: Family = isIP(base) === 4 ? "ipv4" : "ipv6";
      if (prefixText === undefined) list.addAddress(base, family);
      else list.addSubnet(base, Number(prefixText), family);
      cached = { list, family };
    }
    if (entryLists.size > 10_000) entryLists.clear();
    entryLists.set(entry, cached);
  }
  return cached;
}

/** True when `address` lies in one of the `allowed_ips` entries (IPs or CIDRs). */
export function addressInList(address: string, entries: readonly string[]): boolean {
  const canonical = canonicalAddress(address);
  const family = familyOf(canonical);
  for (const entry of entries) {
    const compiled = entryList(entry);
    if (compiled === null) continue;
    if (compiled.list.check(canonical, family)) return true;
    // An IPv4 entry also covers the mapped IPv6 spelling and vice versa.
    if (family === "ipv4" && compiled.family === "ipv6" && compiled.list.check(`::ffff:${canonical}`, "ipv6")) return true;
  }
  return false;
}

/** Why `address` is hard-blocked (e.g. "loopback"), or undefined when it is a public address. */
export function blockedRange(address: string): string | undefined {
  const canonical = canonicalAddress(address);
  if (NEVER.has(canonical)) return canonical === "169.254.169.254" || canonical === "fd00:ec2::254" ? "cloud metadata" : "unspecified";
  const family = familyOf(canonical);
  if (family === "ipv6") {
    const groups = parseIpv6Groups(canonical);
    // 6to4 (2002::/16) embeds an IPv4 address in groups 1-2.
    if (groups !== undefined && groups[0] === 0x2002) {
      const embedded = blockedRange(v4FromGroups(groups[1] ?? 0, groups[2] ?? 0));
      if (embedded !== undefined) return `${embedded} (6to4)`;
    }
  }
  for (const { list, family: f, label } of blockLists) {
    if (f === family && list.check(canonical, family)) return label;
  }
  return undefined;
}

/** Metadata and unspecified addresses: refused whatever `allowed_ips` says. */
export function neverAllowed(address: string): boolean {
  return NEVER.has(canonicalAddress(address));
}

export interface AddressVerdict {
  allowed: boolean;
  reason: string;
}

/**
 * May the proxy connect to `address` on behalf of an endpoint with these `allowed_ips`?
 * With `allowed_ips`, the address must be inside them (which also lifts the range blocks,
 * except metadata and unspecified); without, it must not be in a blocked range.
 */
export function checkAddress(address: string, allowedIps: readonly string[] | undefined): AddressVerdict {
  const canonical = canonicalAddress(address);
  if (neverAllowed(canonical)) return { allowed: false, reason: `${canonical} is the ${blockedRange(canonical)} address, never reachable` };
  if (allowedIps !== undefined) {
    return addressInList(canonical, allowedIps)
      ? { allowed: true, reason: `${canonical} is in allowed_ips` }
      : { allowed: false, reason: `${canonical} is not in the endpoint's allowed_ips (${allowedIps.join(", ")})` };
  }
  const range = blockedRange(canonical);
  return range === undefined
    ? { allowed: true, reason: `${canonical} is a public address` }
    : { allowed: false, reason: `${canonical} is ${range}; list it in the endpoint's allowed_ips to reach it` };
}

/** name → addresses, like curl's --resolve; consulted before DNS. */
export type HostMap = Readonly<Record<string, string | readonly string[]>>;

/** Host-side resolution of a name the policy already allowed. IP literals resolve to themselves. */
export async function resolveHost(host: string, hostMap: HostMap = {}): Promise<string[]> {
  if (isIP(host) !== 0) return [canonicalAddress(host)];
  const mapped = hostMap[host];
  if (mapped !== undefined) return (typeof mapped === "string" ? [mapped] : [...mapped]).map(canonicalAddress);
  const results = await lookup(host, { all: true, verbatim: true });
  return results.map((r) => canonicalAddress(r.address));
}
