// IPv6 answers that reach an internal IPv4 address through a translator or tunnel (NAT64, 6to4, the
// IPv4-compatible and SIIT forms), and IPv6 ranges that are not public at all (site-local, discard,
// documentation), are internal: a poisoned DNS answer for a push service host cannot use them to
// point a push into the user's network. The same forms carrying a public IPv4 address still pass.
import { expect, it } from 'vitest';
import { httpsTransport } from '../../src/push/transport.js';
import { isInternalAddress } from '../../src/push/vetted-lookup.js';

it('an IPv6 address carrying an internal IPv4 one, or outside public unicast, is internal', () => {
  for (const a of [
    '64:ff9b::a9fe:a9fe', // NAT64 → 169.254.169.254
    '64:ff9b::7f00:1', // NAT64 → 127.0.0.1
    '64:ff9b::10.0.0.1',
    '64:ff9b:1::a00:1', // local-use NAT64 prefix
    '2002:a00:1::1', // 6to4 → 10.0.0.1
    '2002:c0a8:101::', // 6to4 → 192.168.1.1
    '::127.0.0.1', // IPv4-compatible
    '::a9fe:a9fe',
    '::ffff:0:a00:1', // SIIT → 10.0.0.1
    '::ffff:0:127.0.0.1',
    'fec0::1', // site-local
    '100::1', // discard
    '2001:db8::1', // documentation
    '2001::1', // Teredo
    'FEC0::1',
    'fe80::1%eth0',
  ])
    expect(isInternalAddress(a), a).toBe(true);
  for (const a of [
    '64:ff9b::8.8.8.8', // a DNS64 network reaching a public IPv4-only service
    '2002:808:808::1',
    '::ffff:142.250.74.106',
    '2607:f8b0:4004:c07::5f',
    '2a00:1450:4001:82b::200a',
  ])
    expect(isInternalAddress(a), a).toBe(false);
});

it('a push to an allowed host whose DNS answer is NAT64 to the metadata address is refused before connecting', async () => {
  const transport = httpsTransport({
    resolve: (_host, cb) => cb(null, [{ address: '64:ff9b::a9fe:a9fe', family: 6 }]),
    timeoutMs: 2000,
  });
  try {
    await expect(
      transport({
        endpoint: 'https://web.push.apple.com/QGabc',
        method: 'POST',
        headers: { TTL: 60 },
        body: Buffer.from('x'),
      }),
    ).rejects.toThrow(/resolves to an internal address \(64:ff9b::a9fe:a9fe\)/);
  } finally {
    transport.close();
  }
});
