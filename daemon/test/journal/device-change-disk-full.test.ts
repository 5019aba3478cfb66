// A device revoke or rename whose devices.json write fails (a full disk) changes nothing. It used to
// be made in memory before the write and never undone: the phone was told "internal error" (and told
// so again on every resend), yet the device was gone from the list and its token refused at once,
// the next unrelated write of devices.json made the revoke durable, and the other phones never
// heard of it. Now the phone is told the disk is full, the device keeps working until a revoke is
// written, and a revoke that is written closes its sockets and is announced once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { Device } from '../../../shared/src/index.js';
import { CloseCode } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { WsTestClient } from '../helpers/ws-client.js';
import { Homes } from './helpers.js';

const homes = new Homes();
const gates: string[] = [];
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(async () => {
  await homes.cleanup();
  for (const g of gates.splice(0)) fs.rmSync(g, { recursive: true, force: true });
});

const env = { ANTHROPIC_API_KEY: 'sk-test-key' };
const FULL_HOOK = path.join(import.meta.dirname, 'fail-devices-write.cjs');

/** A file whose presence makes devices.json writes fail with ENOSPC (and the journal's too, with `journalToo`). */
function diskFullSwitch(journalToo = false) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-full-'));
  gates.push(dir);
  const flag = path.join(dir, 'full');
  return {
    env: {
      NODE_OPTIONS: `--require ${FULL_HOOK}`,
      ERRAND_TEST_DEVICES_FULL: flag,
      ...(journalToo ? { ERRAND_TEST_DISK_FULL: flag } : {}),
    },
    fill: () => fs.writeFileSync(flag, ''),
    free: () => fs.rmSync(flag),
  };
}

type DevicesDoc = { devices: Array<Device & { unconfirmed?: true }>; owed?: Array<{ change: string }> };
const readDoc = (home: string) =>
  JSON.parse(fs.readFileSync(path.join(home, 'store', 'devices.json'), 'utf8')) as DevicesDoc;
const namesIn = (home: string) => readDoc(home).devices.map((d) => d.name);
/** The devices' first use is written (confirmed) in the background: wait for it, so the disk fills after. */
const allConfirmed = (home: string) =>
  vi.waitFor(() => expect(readDoc(home).devices.some((d) => d.unconfirmed)).toBe(false), { timeout: 5000 });

/** How a command was answered: its error's code and message, or `ok`. */
const failure = (p: Promise<unknown>): Promise<{ code: string; message: string }> =>
  p.then(
    () => ({ code: 'ok', message: '' }),
    (e: Error & { code?: string }) => ({ code: e.code ?? '', message: e.message }),
  );
const listNames = async (ws: WsTestClient) => (await ws.send<Device[]>({ type: 'devices.list' })).map((d) => d.name);
/** The device events a client got (replayed and live), after a round trip so none is still on its way. */
async function deviceEvents(ws: WsTestClient, names: Record<string, string>): Promise<string[]> {
  await ws.send({ type: 'devices.list' });
  return ws
    .events()
    .flatMap(({ event: e }) =>
      e.kind === 'device.updated'
        ? [`updated ${e.device.name}`]
        : e.kind === 'device.revoked'
          ? [`revoked ${names[e.deviceId]}`]
          : [],
    );
}
const opens = (url: string, token: string) =>
  WsTestClient.open(url, token).then(
    (c) => (c.close(), 'accepted'),
    (e: Error) => `refused (${e.message})`,
  );

it('a revoke whose devices.json write fails: the phone is told the disk is full, and nothing is revoked, not by a later write, not by a restart', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Phone B', 'Stolen C']);
  const [phoneA, , stolen] = readDoc(home).devices.map((d) => d.id);
  const names = { [stolen]: 'Stolen C' };
  const disk = diskFullSwitch();
  const first = await homes.start(home, { ...env, ...disk.env });
  const wsA = await homes.connect(first.url, tokens[0]);
  const wsB = await homes.connect(first.url, tokens[1], 0);
  const wsC = await homes.connect(first.url, tokens[2]);
  await allConfirmed(home);

  disk.fill();
  const revoke = await failure(wsA.send({ type: 'device.revoke', deviceId: stolen }, 'revoke-000001'));
  expect(revoke.code).toBe('unavailable');
  expect(revoke.message).toContain(`disk full at ${path.join(home, 'store')}`);
  expect(revoke.message).toMatch(/free some space, then send it again/i);
  // A rename on the full disk is refused the same way and changes no name.
  const rename = await failure(
    wsA.send({ type: 'device.rename', deviceId: phoneA, name: 'Phone A2' }, 'rename-000001'),
  );
  expect(rename.code).toBe('unavailable');

  // Nothing was revoked or renamed: the stolen device's socket stays open and its token still works.
  expect(await listNames(wsA)).toEqual(['Phone A', 'Phone B', 'Stolen C']);
  expect(await listNames(wsC)).toEqual(['Phone A', 'Phone B', 'Stolen C']);
  expect(wsC.closed).toBeUndefined();
  expect(await opens(first.url, tokens[2])).toBe('accepted');

  // Room again: an unrelated change writes devices.json; it does not carry the failed revoke.
  disk.free();
  await wsA.send({ type: 'device.rename', deviceId: phoneA, name: 'Phone A2' }, 'rename-000002');
  expect(namesIn(home)).toEqual(['Phone A2', 'Phone B', 'Stolen C']);
  expect(readDoc(home).owed?.some((o) => o.change === 'revoke') ?? false).toBe(false);
  expect(await deviceEvents(wsB, names)).toEqual(['updated Phone A2']);

  // After a restart it is the same: the token works, and no phone hears of a revoke.
  first.child.kill('SIGKILL');
  await first.exited;
  const second = await homes.start(home, env);
  expect(await opens(second.url, tokens[2])).toBe('accepted');
  const wsB2 = await homes.connect(second.url, tokens[1], 0);
  expect(await deviceEvents(wsB2, names)).toEqual(['updated Phone A2']);

  // A revoke that is written takes effect at once: its socket is closed, its token refused, and it is announced once.
  const wsC2 = await homes.connect(second.url, tokens[2]);
  const wsA2 = await homes.connect(second.url, tokens[0]);
  expect(await wsA2.send({ type: 'device.revoke', deviceId: stolen }, 'revoke-000002')).toEqual({ revoked: stolen });
  expect((await wsC2.waitClosed()).code).toBe(CloseCode.revoked);
  expect(await opens(second.url, tokens[2])).toMatch(/^refused/);
  expect(await deviceEvents(wsB2, names)).toEqual(['updated Phone A2', 'revoked Stolen C']);
  expect(namesIn(home)).toEqual(['Phone A2', 'Phone B']);
}, 120_000);

it('a revoke on a full disk (devices.json and the journal) is not remembered: sent again with the same id once there is room, it revokes, closes and is announced once', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Phone B', 'Stolen C']);
  const stolen = readDoc(home).devices[2].id;
  const names = { [stolen]: 'Stolen C' };
  const disk = diskFullSwitch(true);
  const d = await homes.start(home, { ...env, ...disk.env });
  const wsA = await homes.connect(d.url, tokens[0]);
  const wsB = await homes.connect(d.url, tokens[1], 0);
  const wsC = await homes.connect(d.url, tokens[2]);
  await allConfirmed(home);

  disk.fill();
  const revoke = { type: 'device.revoke', deviceId: stolen } as const;
  const refused = await failure(wsA.send(revoke, 'revoke-000001'));
  expect(refused.code).toBe('unavailable');
  expect(refused.message).toMatch(/disk full at .*free some space, then send it again/i);
  expect(await listNames(wsA)).toEqual(['Phone A', 'Phone B', 'Stolen C']);
  expect(await listNames(wsC)).toEqual(['Phone A', 'Phone B', 'Stolen C']);

  // The phone's resend, once there is room, runs it: not "No such device", not the remembered refusal.
  disk.free();
  expect(await wsA.send(revoke, 'revoke-000001')).toEqual({ revoked: stolen });
  expect((await wsC.waitClosed()).code).toBe(CloseCode.revoked);
  expect(await opens(d.url, tokens[2])).toMatch(/^refused/);
  expect(await wsA.send(revoke, 'revoke-000001')).toEqual({ revoked: stolen });
  expect(await deviceEvents(wsB, names)).toEqual(['revoked Stolen C']);
  expect(namesIn(home)).toEqual(['Phone A', 'Phone B']);
}, 120_000);

it('a pairing whose devices.json write fails tells the phone the disk is full, not an internal error', async () => {
  const { spawn } = await import('node:child_process');
  const readline = await import('node:readline');
  const { home } = await homes.home();
  const full = diskFullSwitch();
  const d = await homes.start(home, { ...env, ...full.env });
  const pair = spawn(process.execPath, [path.resolve('daemon/bin/errand.js'), 'pair', '--yes', '--json'], {
    env: { PATH: process.env.PATH ?? '', ERRAND_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const first = await new Promise<string>((resolve) =>
      readline.createInterface({ input: pair.stdout! }).once('line', resolve),
    );
    const code = new URL(JSON.parse(first).url).hash.replace(/^#pair=/, '');
    full.fill();
    const res = await fetch(`${d.url}/api/pair/claim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'New phone' }),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('unavailable');
    expect(body.message).toMatch(
      /^The computer could not save this pairing: disk full at .*store\. Free some space there, then run `errand pair` again\.$/,
    );
    expect(namesIn(home)).not.toContain('New phone');
  } finally {
    pair.kill('SIGKILL');
  }
});
