// DNS for push requests: a push service's host name must resolve to a public address. An allowed
// name that resolves to a private, loopback, link-local or otherwise internal address (a poisoned
// or split-horizon DNS answer) would turn a push into a request into the user's own network, so it
// is refused, and the connection goes to exactly the address that was checked.
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
for (const [prefix, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(prefix, bits, 'ipv6'); // (IPv4-mapped addresses are checked as IPv4 below)

export function isInternalAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family === 6) {
    const mapped = address.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/)?.[1];
    if (mapped) return internal.check(mapped, 'ipv4');
    return internal.check(address, 'ipv6');
  }
  return true; // not an address at all: never connect to it
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
