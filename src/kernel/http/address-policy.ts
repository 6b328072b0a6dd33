import ipaddr from 'ipaddr.js';

/** Addresses of cloud metadata services that are not in a private or link-local range. */
const METADATA: Array<[ipaddr.IPv4 | ipaddr.IPv6, number, string]> = [
  ['168.63.129.16/32', 'Azure metadata'],
  ['100.100.100.200/32', 'Alibaba Cloud metadata'],
  ['192.0.0.192/32', 'Oracle Cloud metadata'],
  ['fd00:ec2::254/128', 'AWS metadata (IPv6)'],
].map(([cidr, name]) => [...ipaddr.parseCIDR(cidr), name] as [ipaddr.IPv4 | ipaddr.IPv6, number, string]);

const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  linkLocal: 'a link-local address (cloud metadata lives here)',
  carrierGradeNat: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved address',
  uniqueLocal: 'a private (unique local) IPv6 address',
  '6to4': 'a 6to4 address that embeds an IPv4 address',
  teredo: 'a Teredo address that embeds an IPv4 address',
  rfc6052: 'a NAT64 address that embeds an IPv4 address',
  rfc6145: 'an IPv4-translated address',
  discard: 'a discard-only address',
};

export interface Allowlist {
  hosts: Set<string>;
  ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

/** FETCH_ALLOWLIST entries: host names, IP addresses and CIDR ranges. */
export function parseAllowlist(entries: string[]): Allowlist {
  const hosts = new Set<string>();
  const ranges: Allowlist['ranges'] = [];
  for (const raw of entries) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (!entry) continue;
    if (entry.includes('/')) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const ip = ipaddr.parse(entry);
      ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(entry);
  }
  return { hosts, ranges };
}

function normalise(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const ip = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

function inRange(ip: ipaddr.IPv4 | ipaddr.IPv6, [net, bits]: [ipaddr.IPv4 | ipaddr.IPv6, number]): boolean {
  return ip.kind() === net.kind() && ip.match(net as never, bits);
}

/**
 * Why an address may not be fetched, or null when it may: only public unicast addresses pass (IPv4-mapped IPv6
 * is judged as the IPv4 address it carries), unless FETCH_ALLOWLIST names the address or a range holding it.
 */
export function addressRefusal(address: string, allowlist: Allowlist): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = normalise(address);
  } catch {
    return `"${address}" is not an IP address`;
  }
  if (allowlist.ranges.some((r) => inRange(ip, r))) return null;
  const metadata = METADATA.find(([net, bits]) => inRange(ip, [net, bits]));
  if (metadata) return `${ip.toString()} is the ${metadata[2]} address`;
  const range = ip.range();
  if (range === 'unicast') return null;
  return `${ip.toString()} is ${RANGE_WORDS[range] ?? `in the "${range}" range`}`;
}
