// LAN mode follows this computer's addresses while the daemon runs: a login service starts before
// the Wi-Fi is up, and DHCP hands out a new address. The phone on the new address is answered, the
// pairing link and status name it, an address the computer no longer has is refused again, and
// without any network `errand pair` says to connect to Wi-Fi (LAN mode is already on). The
// interfaces are stubbed in this process; requests go to the loopback listener with the phone's Host.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { afterEach, expect, it, vi } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { pairCommand } from '../../src/cli/commands/pair.js';
import { homePaths } from '../../src/config/paths.js';
import { controlCall } from '../../src/control/client.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

type Interfaces = ReturnType<typeof os.networkInterfaces>;
const v4 = (address: string, internal = false) =>
  ({ address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null }) as const;
const LOOPBACK_ONLY: Interfaces = { lo: [v4('127.0.0.1', true)] };
const withWifi = (address: string): Interfaces => ({ ...LOOPBACK_ONLY, wlan0: [v4(address)] });

let interfaces: Interfaces = LOOPBACK_ONLY;
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

async function lanDaemon(): Promise<TestDaemon> {
  interfaces = LOOPBACK_ONLY;
  vi.spyOn(os, 'networkInterfaces').mockImplementation(() => interfaces);
  const td = await startTestDaemon({ config: { lan: true } });
  cleanups.push(() => fs.rmSync(td.home, { recursive: true, force: true }));
  cleanups.push(() => td.stop());
  return td;
}

/** A request as the phone sends it (its Host and Origin), delivered to the loopback listener. */
function asPhone(
  td: TestDaemon,
  host: string,
  opts: { method?: string; path?: string; body?: unknown } = {},
): Promise<{ status: number; body: string }> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: td.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/healthz',
        headers: {
          host,
          ...(payload ? { origin: `http://${host}`, 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** `errand pair`, run in this process against the daemon; resolves with its output once it ends. */
function pair(td: TestDaemon, args: { yes?: boolean } = {}) {
  const out: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    env: {},
    interactive: false,
    confirm: async () => false,
  };
  const done = pairCommand.run({ home: td.home, values: { yes: args.yes }, positionals: [] }, io);
  const code = (async () => {
    for (let i = 0; i < 200; i++) {
      const m = /#pair=(\S+)/.exec(out.join('\n'));
      if (m) return m[1];
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no pairing code shown: ${out.join('\n')}`);
  })();
  return { out, code, done };
}

it('Wi-Fi that comes up after the start: the phone is answered, and the link and status name the address', async () => {
  const td = await lanDaemon();
  const status = () => controlCall(homePaths(td.home).socket, 'status');
  expect((await status()).listening.some((o) => o.includes('192.168.50.2'))).toBe(false);

  interfaces = withWifi('192.168.50.2');
  const wifi = `192.168.50.2:${td.port}`;
  expect((await asPhone(td, wifi)).status).toBe(200);
  expect((await status()).listening).toContain(`http://${wifi}`);

  // `errand pair` points at the new address, and the phone pairs through it (Host and Origin).
  const p = pair(td, { yes: true });
  const code = await p.code;
  expect(p.out.join('\n')).toContain(`http://${wifi}/#pair=${code}`);
  expect(p.out.join('\n')).not.toContain('errand expose lan');
  const claim = await asPhone(td, wifi, { method: 'POST', path: '/api/pair/claim', body: { code, name: 'Phone' } });
  expect(claim.status).toBe(200);
  expect(await p.done).toBe(0);

  // A new DHCP lease: the new address is answered, the old one (no longer this computer's) is not.
  interfaces = withWifi('192.168.50.7');
  expect((await asPhone(td, `192.168.50.7:${td.port}`)).status).toBe(200);
  expect((await asPhone(td, wifi)).status).toBe(403);
  // Names and addresses that are not this computer's stay refused.
  expect((await asPhone(td, `192.168.50.99:${td.port}`)).status).toBe(403);
  expect((await asPhone(td, `evil.example:${td.port}`)).status).toBe(403);
});

it('LAN mode with no network address: `errand pair` says to connect to Wi-Fi, not to turn LAN mode on', async () => {
  const td = await lanDaemon();
  // Only a container bridge: nothing a phone can reach.
  interfaces = { ...LOOPBACK_ONLY, docker0: [v4('172.17.0.1')] };
  const p = pair(td);
  const code = await p.code;
  const text = p.out.join('\n');
  expect(text).toContain(`http://127.0.0.1:${td.port}/#pair=${code}`);
  expect(text).toContain('No network address found: connect this computer to your Wi-Fi, then run `errand pair` again');
  expect(text).not.toContain('errand expose lan');
  // End the command: the claim is declined (no terminal to approve in).
  const claim = asPhone(td, `127.0.0.1:${td.port}`, {
    method: 'POST',
    path: '/api/pair/claim',
    body: { code, name: 'Phone' },
  });
  expect(await p.done).toBe(1);
  expect((await claim).status).not.toBe(200);
});
