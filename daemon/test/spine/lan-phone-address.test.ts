// LAN mode on a computer with several networks: the pairing link points at the address a phone on
// the home network can open (a private address on a physical-looking interface), not at whichever
// the OS lists first (docker0, a VPN, a tailnet). Every address stays accepted; `errand pair` names
// the other likely ones. The interfaces are stubbed in this process; nothing binds 0.0.0.0.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { pairCommand } from '../../src/cli/commands/pair.js';
import type { Config } from '../../src/config/schema.js';
import { lanAddresses, originPolicy, phoneOrigin } from '../../src/server/origins.js';
import { tempHome } from '../helpers/daemon.js';

type Interfaces = ReturnType<typeof os.networkInterfaces>;
const v4 = (address: string, internal = false) =>
  ({ address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null }) as const;

/** A laptop on a USB-C dock with Docker and Tailscale, in the order Linux reports them. */
const DOCKED: Interfaces = {
  lo: [v4('127.0.0.1', true)],
  wlp2s0: [],
  docker0: [v4('172.17.0.1')],
  tailscale0: [v4('100.101.102.103')],
  enx00e04c680001: [v4('192.168.1.23')],
};

const stubInterfaces = (ifaces: Interfaces) => vi.spyOn(os, 'networkInterfaces').mockReturnValue(ifaces);
const lanConfig = { lan: true, bind: '127.0.0.1', allowedHosts: [] } as unknown as Config;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('points the QR code at the home network, not docker0 or the tailnet, and still accepts them all', () => {
  stubInterfaces(DOCKED);
  const { origins } = originPolicy(lanConfig, 7999);
  for (const a of ['172.17.0.1', '100.101.102.103', '192.168.1.23']) expect(origins).toContain(`http://${a}:7999`);
  expect(phoneOrigin(origins)).toEqual({ origin: 'http://192.168.1.23:7999', phoneReachable: true });
  expect(lanAddresses()[0]).toBe('192.168.1.23');
});

it('prefers a private address on a physical interface over a VPN or a public one', () => {
  stubInterfaces({
    wg0: [v4('10.8.0.2')],
    eth1: [v4('203.0.113.5')],
    'br-5f1c2e': [v4('172.18.0.1')],
    wlan0: [v4('10.0.0.5')],
  });
  expect(phoneOrigin(originPolicy(lanConfig, 7999).origins).origin).toBe('http://10.0.0.5:7999');
});

it('never a container bridge or link-local; a tailnet address only when nothing better exists', () => {
  stubInterfaces({ docker0: [v4('172.17.0.1')], veth12ab: [v4('172.17.0.9')], eth0: [v4('169.254.10.20')] });
  expect(phoneOrigin(originPolicy(lanConfig, 7999).origins)).toEqual({
    origin: 'http://127.0.0.1:7999',
    phoneReachable: false,
  });
  stubInterfaces({ docker0: [v4('172.17.0.1')], tailscale0: [v4('100.101.102.103')] });
  expect(phoneOrigin(originPolicy(lanConfig, 7999).origins).origin).toBe('http://100.101.102.103:7999');
});

it('`errand pair` lists the other addresses a phone might use, without the container bridges', async () => {
  stubInterfaces(DOCKED);
  // A stand-in daemon on the control socket answers pair.start with the LAN link, then ends it.
  const home = tempHome();
  const server = net.createServer((s) => {
    s.on('data', () => {
      const progress = { type: 'code', code: 'CODE123', url: 'http://192.168.1.23:7999/#pair=CODE123', expiresAt: 0 };
      s.end(
        `${JSON.stringify({ id: 1, progress: { ...progress, expiresAt: Date.now() + 60_000, phoneReachable: true } })}\n${JSON.stringify({ id: 1, ok: true, result: { cancelled: true } })}\n`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(path.join(home, 'control.sock'), r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
  const out: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: () => {}, env: {}, interactive: false, confirm: async () => false };
  await pairCommand.run({ home, values: {}, positionals: [] }, io);
  const text = out.join('\n');
  expect(text).toContain('http://100.101.102.103:7999/#pair=CODE123  (tailscale0)');
  expect(text).not.toContain('172.17.0.1');
});
