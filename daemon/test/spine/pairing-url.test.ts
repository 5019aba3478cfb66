// The pairing link and QR code point where a phone can go: the HTTPS publicUrl, the LAN address in
// LAN mode; a loopback-only daemon says plainly that a phone cannot open it and what fixes that.
// The QR code has a 4-module quiet zone and explicit colours (scans on light and dark terminals).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { renderQrText } from '../../src/cli/qr.js';
import { lanAddresses, phoneOrigin } from '../../src/server/origins.js';
import { ERRAND_BIN, freePort, spawnDaemon } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startDaemon(env: Record<string, string>, config?: object) {
  const home = tempHome();
  if (config) fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  const daemon = await spawnDaemon({ ERRAND_HOME: home, ...env }, await freePort());
  cleanups.push(async () => {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    fs.rmSync(home, { recursive: true, force: true });
  });
  return { home, daemon };
}

/** Run `errand pair …` until its output matches, then stop it. */
async function pairOutput(home: string, args: string[], until: RegExp): Promise<string> {
  const child: ChildProcess = spawn(process.execPath, [ERRAND_BIN, 'pair', ...args], {
    env: { PATH: process.env.PATH ?? '', ERRAND_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 400 && !until.test(out); i++) await new Promise((r) => setTimeout(r, 25));
  expect(out).toMatch(until);
  return out;
}

it('picks the origin a phone can open', () => {
  expect(phoneOrigin(['https://box.tail1.ts.net', 'http://127.0.0.1:7345'])).toEqual({
    origin: 'https://box.tail1.ts.net',
    phoneReachable: true,
  });
  expect(
    phoneOrigin(['http://127.0.0.1:7345', 'http://localhost:7345', 'http://[::1]:7345', 'http://192.168.1.20:7345']),
  ).toEqual({ origin: 'http://192.168.1.20:7345', phoneReachable: true });
  expect(phoneOrigin(['http://127.0.0.1:7345', 'http://localhost:7345'])).toEqual({
    origin: 'http://127.0.0.1:7345',
    phoneReachable: false,
  });
});

it('with a publicUrl, `errand pair` links to it', async () => {
  const { home } = await startDaemon({ ERRAND_PUBLIC_URL: 'https://desk.tail1234.ts.net' });
  const out = await pairOutput(home, ['--json'], /\n/);
  const first = JSON.parse(out.split('\n')[0]) as { url: string; phoneReachable: boolean };
  expect(first.url).toMatch(/^https:\/\/desk\.tail1234\.ts\.net\/#pair=/);
  expect(first.phoneReachable).toBe(true);
});

it('loopback only: the code is shown with a plain warning and the command that fixes it', async () => {
  const { home, daemon } = await startDaemon({});
  const json = await pairOutput(home, ['--json'], /\n/);
  expect(JSON.parse(json.split('\n')[0])).toMatchObject({
    url: expect.stringContaining(`${daemon.url}/#pair=`),
    phoneReachable: false,
  });
  const text = await pairOutput(home, [], /a phone cannot open it/);
  expect(text).toContain('errand expose tailscale');
  expect(text).toContain('errand expose url');
});

it('LAN mode: the link uses this computer’s network address', async () => {
  const { home } = await startDaemon({}, { lan: true });
  const out = await pairOutput(home, ['--json'], /\n/);
  const first = JSON.parse(out.split('\n')[0]) as { url: string; phoneReachable: boolean };
  const lan = lanAddresses();
  if (lan.length > 0) {
    expect(lan.some((a) => first.url.startsWith(`http://${a}:`))).toBe(true);
    expect(first.phoneReachable).toBe(true);
  } else {
    // A machine with no network interface has nothing better to offer, and says so.
    expect(first.phoneReachable).toBe(false);
  }
});

it('LAN mode turned on while the daemon runs: the code stays on what it serves, and says to restart first', async () => {
  const { home, daemon } = await startDaemon({});
  const env = { PATH: process.env.PATH ?? '', ERRAND_HOME: home };
  const exposed = spawn(process.execPath, [ERRAND_BIN, 'expose', 'lan'], { env, stdio: 'ignore' });
  expect(await new Promise((r) => exposed.once('exit', r))).toBe(0);
  const first = JSON.parse((await pairOutput(home, ['--json'], /\n/)).split('\n')[0]) as {
    url: string;
    phoneReachable: boolean;
    restartNeeded?: boolean;
  };
  // Nothing listens on the LAN address until a restart: the link is the one the daemon serves now.
  expect(first.url).toContain(`${daemon.url}/#pair=`);
  expect(first.phoneReachable).toBe(false);
  if (lanAddresses().length > 0) {
    expect(first.restartNeeded).toBe(true);
    const text = await pairOutput(home, [], /errand pair. again/);
    expect(text).toContain('only after a restart');
  }
});

it('without a terminal and with no phone paired, `errand start` says how to pair', async () => {
  const { daemon } = await startDaemon({});
  for (let i = 0; i < 200 && !daemon.output().includes('errand pair'); i++) await new Promise((r) => setTimeout(r, 25));
  expect(daemon.output()).toContain('No phone is paired yet: run `errand pair` in a terminal');
});

it('the QR code has a 4-module quiet zone and black-on-white colours', () => {
  const plain = renderQrText('http://192.168.1.20:7345/#pair=abcdefgh', { color: false }).split('\n');
  // Two module rows per line: the first two lines and the last two are quiet zone (blank).
  for (const line of [plain[0], plain[1], plain.at(-1)!, plain.at(-2)!]) expect(line.trim()).toBe('');
  for (const line of plain) {
    expect(line.slice(0, 4).trim()).toBe('');
    expect(line.slice(-4).trim()).toBe('');
  }
  expect(plain.some((l) => /[█▀▄]/.test(l))).toBe(true);
  const colored = renderQrText('http://192.168.1.20:7345/#pair=abcdefgh', { color: true }).split('\n');
  for (const line of colored) expect(line.startsWith('\x1b[30;107m') && line.endsWith('\x1b[0m')).toBe(true);
});

it('without a terminal and without --yes, a claim is declined with a message saying what to do', async () => {
  const { home, daemon } = await startDaemon({});
  const child = spawn(process.execPath, [ERRAND_BIN, 'pair', '--json'], {
    env: { PATH: process.env.PATH ?? '', ERRAND_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  for (let i = 0; i < 400 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
  const code = new URL((JSON.parse(out.split('\n')[0]) as { url: string }).url).hash.slice('#pair='.length);
  const res = await fetch(`${daemon.url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name: 'Phone' }),
  });
  expect(res.status).toBe(403); // the phone hears it was declined
  expect(await exited).toBe(1);
  expect(err).toMatch(/needs a terminal.*errand pair --yes/s);
  expect(out).toContain('"declined":true');
});
