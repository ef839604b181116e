// Hard blocks: addresses the proxy never connects to unless an endpoint names them in
// `allowed_ips`, and the cloud metadata services, never at all. Ranges come from ipaddr.js's
// `range()` (the IANA special-purpose registries, kept up to date upstream): only `unicast` —
// and for IPv6 only global unicast, 2000::/3 — is reachable without `allowed_ips`. Applied to
// the address actually connected to (we connect by IP after resolving), so a name that rebinds
// to 127.0.0.1 after the policy check gains nothing. Names are resolved only after the policy
// allowed them.

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { METADATA_ADDRESS_LIST } from "../policy/schema.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

// Never reachable whatever `allowed_ips` says: the metadata services (one list, the policy
// schema's), and "connect to unspecified", which means this host.
const METADATA: ReadonlySet<string> = new Set(METADATA_ADDRESS_LIST);
const UNSPECIFIED = new Set(["0.0.0.0", "::"]);

// How ipaddr.js's range names read in a refusal; a name it adds later shows as itself.
const RANGE_LABELS: Readonly<Record<string, string>> = {
  unspecified: "unspecified (this network)",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "carrier-grade NAT",
  private: "private",
  reserved: "reserved for special use (documentation, benchmarking, relay or future use)",
  as112: "AS112 DNS sink",
  amt: "AMT relay",
  uniqueLocal: "private (unique local)",
  deprecatedSiteLocal: "site-local",
  discard: "discard",
  rfc6145: "IPv4-translated",
  rfc6052: "local-use NAT64",
  "6to4": "6to4",
  teredo: "Teredo",
  benchmarking: "benchmarking",
  as112v6: "AS112 DNS sink",
  deprecatedOrchid: "ORCHID",
  orchid2: "ORCHID",
  droneRemoteIdProtocolEntityTags: "drone remote ID",
  segmentRouting: "segment routing (SRv6)",
};

// IANA's global unicast allocation; ipaddr.js calls everything it has no name for `unicast`,
// including the unassigned rest of the IPv6 space.
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");
// RFC 6052's well-known NAT64 prefix: ipaddr.js files it with the local-use /48 as `rfc6052`.
const WELL_KNOWN_NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

function parse(address: string): Address | undefined {
  // node:net's isIP is strict (no "127.1" or octal forms); ipaddr.js alone would accept those.
  return isIP(address) === 0 ? undefined : ipaddr.parse(address);
}

function v4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * The IPv4 address an IPv6 address simply is: mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`
 * and well-known NAT64 `64:ff9b::a.b.c.d`. Connecting to these reaches that IPv4 address, so
 * they are checked, listed and connected to as it.
 */
function sameAsIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const zeroHead = p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0;
  const [hi = 0, lo = 0] = p.slice(6);
  if (zeroHead && p[5] === 0xffff) return v4(hi, lo);
  if (zeroHead && p[5] === 0 && (hi !== 0 || lo > 1)) return v4(hi, lo);
  if (address.match(WELL_KNOWN_NAT64)) return v4(hi, lo);
  return undefined;
}

/**
 * The IPv4 addresses an IPv6 transition address carries but is not: IPv4-translated
 * (`::ffff:0:a.b.c.d`), local-use NAT64 (read with the /96 layout), 6to4 (`2002:AABB:CCDD::`)
 * and Teredo (server in bits 32-63, client inverted in the last 32).
 */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const at = (i: number): number => address.parts[i] ?? 0;
  switch (address.range()) {
    case "rfc6145":
    case "rfc6052":
      return [v4(at(6), at(7))];
    case "6to4":
      return [v4(at(1), at(2))];
    case "teredo":
      return [v4(at(2), at(3)), v4(~at(6) & 0xffff, ~at(7) & 0xffff)];
    default:
      return [];
  }
}

/**
 * The canonical text of an address: IPv4 dotted quad, IPv6 lower-case RFC 5952, and IPv6
 * forms that are an IPv4 address (mapped, compatible, well-known NAT64) reduced to it, so a
 * block on 127.0.0.0/8 cannot be dodged. Anything that is not an IP address comes back
 * lower-cased.
 */
export function canonicalAddress(address: string): string {
  // Pure, and asked for every request's resolved address: remembered.
  let canonical = canonicalCache.get(address);
  if (canonical === undefined) {
    canonical = canonicalText(address);
    if (canonicalCache.size >= 10_000) canonicalCache.clear();
    canonicalCache.set(address, canonical);
  }
  return canonical;
}

const canonicalCache = new Map<string, string>();

function canonicalText(address: string): string {
  const parsed = parse(address);
  if (parsed === undefined) return address.toLowerCase();
  if (parsed instanceof ipaddr.IPv4) return parsed.toString();
  return (sameAsIpv4(parsed) ?? parsed).toString();
}

function canonicalParse(address: string): Address | undefined {
  const parsed = parse(address);
  if (parsed === undefined || parsed instanceof ipaddr.IPv4) return parsed;
  return sameAsIpv4(parsed) ?? parsed;
}

type CompiledEntry = [Address, number] | null;
const entryCache = new Map<string, CompiledEntry>();

/**
 * One `allowed_ips` entry (IP or CIDR) as a range in canonical form, built once (checked per
 * request): `::ffff:10.0.0.0/104` and `64:ff9b::7f00:1` become the IPv4 ranges they are.
 */
function compileEntry(entry: string): CompiledEntry {
  let compiled = entryCache.get(entry);
  if (compiled === undefined) {
    compiled = null;
    const [base = "", prefixText, ...extra] = entry.split("/");
    const address = parse(base);
    if (address !== undefined && extra.length === 0 && (prefixText === undefined || /^\d{1,3}$/.test(prefixText))) {
      const max = address instanceof ipaddr.IPv4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      const ipv4 = address instanceof ipaddr.IPv6 && prefix >= 96 ? sameAsIpv4(address) : undefined;
      if (prefix <= max) compiled = ipv4 === undefined ? [address, prefix] : [ipv4, prefix - 96];
    }
    if (entryCache.size > 10_000) entryCache.clear();
    entryCache.set(entry, compiled);
  }
  return compiled;
}

/** True when `address` lies in one of the `allowed_ips` entries (IPs or CIDRs). */
export function addressInList(address: string, entries: readonly string[]): boolean {
  const parsed = canonicalParse(address);
  if (parsed === undefined) return false;
  for (const entry of entries) {
    const compiled = compileEntry(entry);
    if (compiled === null) continue;
    const [range, bits] = compiled;
    if (parsed instanceof ipaddr.IPv4 ? range instanceof ipaddr.IPv4 : range instanceof ipaddr.IPv6) {
      if (parsed.match(range, bits)) return true;
    } else if (parsed instanceof ipaddr.IPv4 && parsed.toIPv4MappedAddress().match(range, bits)) {
      // An IPv6 CIDR over the mapped block (`::ffff:10.0.0.0/104`) covers the IPv4 addresses.
      return true;
    }
  }
  return false;
}

function rangeLabel(address: Address): string {
  const name = address.range();
  return RANGE_LABELS[name] ?? name;
}

function neverLabel(address: Address): string | undefined {
  const text = address.toString();
  if (METADATA.has(text)) return "cloud metadata";
  if (UNSPECIFIED.has(text)) return "unspecified";
  return undefined;
}

/** Why `address` is hard-blocked (e.g. "loopback"), or undefined when it is a public address. */
export function blockedRange(address: string): string | undefined {
  const parsed = canonicalParse(address);
  if (parsed === undefined) return "not an IP address";
  const never = neverLabel(parsed);
  if (never !== undefined) return never;
  if (parsed instanceof ipaddr.IPv4) return parsed.range() === "unicast" ? undefined : rangeLabel(parsed);
  const mechanism = rangeLabel(parsed);
  // A transition address is refused as such; the reason names what it carries when that is
  // itself blocked, so "2002:7f00:1::" reads as loopback rather than just 6to4.
  for (const inner of embeddedIpv4(parsed)) {
    const innerRange = blockedRange(inner.toString());
    if (innerRange !== undefined) return `${innerRange} (${mechanism})`;
  }
  if (parsed.range() !== "unicast") return mechanism;
  return parsed.match(GLOBAL_UNICAST) ? undefined : "unassigned (outside global unicast 2000::/3)";
}

/** Metadata and unspecified addresses, bare or carried in an IPv6 form: refused whatever `allowed_ips` says. */
export function neverAllowed(address: string): boolean {
  const parsed = canonicalParse(address);
  if (parsed === undefined) return false;
  if (neverLabel(parsed) !== undefined) return true;
  return parsed instanceof ipaddr.IPv6 && embeddedIpv4(parsed).some((inner) => neverLabel(inner) !== undefined);
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
  // A pure function of its two inputs, asked on every request: remembered by their text (the
  // list by its entries, not its identity, so a changed policy is a different key).
  const key = JSON.stringify([address, allowedIps ?? null]);
  let verdict = verdictCache.get(key);
  if (verdict === undefined) {
    verdict = decideAddress(address, allowedIps);
    if (verdictCache.size >= 10_000) verdictCache.clear();
    verdictCache.set(key, verdict);
  }
  return verdict;
}

const verdictCache = new Map<string, Readonly<AddressVerdict>>();

function decideAddress(address: string, allowedIps: readonly string[] | undefined): AddressVerdict {
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
