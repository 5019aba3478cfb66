// DNS for push requests: a push service's host name must resolve to a public address. An allowed
// name that resolves to a private, loopback, link-local or otherwise internal address (a poisoned
// or split-horizon DNS answer) would turn a push into a request into the user's own network, so it
// is refused, and the connection goes to exactly the address that was checked. An IPv6 answer that
// carries an IPv4 address (NAT64, 6to4, IPv4-mapped …) is judged by that IPv4 address; any other
// IPv6 address outside global unicast is internal.
import dns from 'node:dns';
import net from 'node:net';

const internal = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT (and Tailscale)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  internal.addSubnet(prefix, bits, 'ipv4');

/** Parts of global unicast (2000::/3) that are not public addresses of a push service. */
const notPublicV6 = new net.BlockList();
for (const [prefix, bits] of [
  ['2001::', 32], // Teredo (its IPv4 is obfuscated: not worth decoding for a push service)
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID
  ['2001:20::', 28], // ORCHIDv2
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
] as const)
  notPublicV6.addSubnet(prefix, bits, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 counts as two); undefined if malformed. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0].toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string) => (h === '' ? [] : h.split(':').map((g) => Number.parseInt(g, 16)));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const groups =
    halves.length === 2 ? [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail] : head;
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/**
 * The IPv4 address an IPv6 one carries to, if it is one of the forms a router or the host turns into
 * IPv4: IPv4-compatible (::/96), IPv4-mapped (::ffff:0:0/96), SIIT (::ffff:0:0:0/96), NAT64's
 * well-known prefix (64:ff9b::/96) and 6to4 (2002::/16). Such an address reaches that IPv4 one.
 */
function embeddedIpv4(g: number[]): string | undefined {
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && (g[5] === 0 || g[5] === 0xffff)) return v4(g[6], g[7]);
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4(g[6], g[7]);
  if (g[0] === 0x2002) return v4(g[1], g[2]);
  return undefined;
}

/**
 * Internal: the IPv4 blocklist (also for an IPv4 address carried inside an IPv6 one), and every IPv6
 * address outside global unicast (2000::/3: loopback, unique-local, link- and site-local, multicast,
 * the local-use NAT64 prefix 64:ff9b:1::/48, discard 100::/64 …) or in its special-purpose parts.
 */
export function isInternalAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: never connect to it
  const g = ipv6Groups(address);
  if (!g) return true;
  const carried = embeddedIpv4(g);
  if (carried) return internal.check(carried, 'ipv4');
  if ((g[0] & 0xe000) !== 0x2000) return true;
  return notPublicV6.check(g.map((x) => x.toString(16)).join(':'), 'ipv6');
}

type Resolver = (
  host: string,
  cb: (err: Error | null, addresses?: Array<{ address: string; family: number }>) => void,
) => void;

const systemResolver: Resolver = (host, cb) => dns.lookup(host, { all: true }, (err, addresses) => cb(err, addresses));

/** A `lookup` for node:https that only ever hands back public addresses. */
export function vettedLookup(resolve: Resolver = systemResolver) {
  return (
    hostname: string,
    options: { all?: boolean } | number,
    callback: (
      err: Error | null,
      address?: string | Array<{ address: string; family: number }>,
      family?: number,
    ) => void,
  ): void => {
    resolve(hostname, (err, addresses) => {
      if (err || !addresses?.length) return callback(err ?? new Error(`${hostname} did not resolve`));
      const bad = addresses.find((a) => isInternalAddress(a.address));
      if (bad)
        return callback(
          new Error(`push refused: ${hostname} resolves to an internal address (${bad.address}), not a push service`),
        );
      if (typeof options === 'object' && options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
