// A push service's host name must resolve to a public address: an allowed name answered with a
// private, loopback or link-local address is refused before any connection, and the connection
// goes to the address that was checked.
import { describe, expect, it } from 'vitest';
import { httpsTransport } from '../../src/push/transport.js';
import { isInternalAddress, vettedLookup } from '../../src/push/vetted-lookup.js';

const answer =
  (...addresses: string[]) =>
  (_host: string, cb: (err: Error | null, a?: Array<{ address: string; family: number }>) => void) =>
    cb(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );

describe('push DNS vetting', () => {
  it('knows internal addresses', () => {
    for (const a of [
      '10.0.0.1',
      '127.0.0.1',
      '169.254.169.254',
      '172.16.5.4',
      '192.168.1.1',
      '100.100.100.100',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ])
      expect(isInternalAddress(a), a).toBe(true);
    for (const a of ['142.250.74.106', '17.57.146.20', '2607:f8b0:4004:c07::5f', '8.8.8.8'])
      expect(isInternalAddress(a), a).toBe(false);
  });

  it('hands back a public address, and refuses any answer that includes an internal one', async () => {
    const lookup = vettedLookup(answer('142.250.74.106'));
    const ok = await new Promise<string | undefined>((resolve, reject) =>
      lookup('fcm.googleapis.com', {}, (err, address) => (err ? reject(err) : resolve(address as string))),
    );
    expect(ok).toBe('142.250.74.106');
    const mixed = vettedLookup(answer('142.250.74.106', '10.0.0.7'));
    await expect(
      new Promise((resolve, reject) =>
        mixed('fcm.googleapis.com', { all: true }, (err, a) => (err ? reject(err) : resolve(a))),
      ),
    ).rejects.toThrow(/internal address \(10\.0\.0\.7\)/);
  });

  it('a push to an allowed host that resolves inside the network is refused before connecting', async () => {
    for (const internalAnswer of ['127.0.0.1', '192.168.1.10', '169.254.169.254']) {
      const transport = httpsTransport({ resolve: answer(internalAnswer), timeoutMs: 2000 });
      try {
        await expect(
          transport({
            endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
            method: 'POST',
            headers: { TTL: 60 },
            body: Buffer.from('x'),
          }),
        ).rejects.toThrow(/internal address/);
      } finally {
        transport.close();
      }
    }
  });
});
