// A device rename or revoke acts once and is published once, across a kill -9 anywhere. devices.json
// was written durably before the journal record holding the reply and the event: a kill between
// the two kept the change and lost both. The phone's outbox then sent the command again: a rename
// ran a second time, over another device's acknowledged rename; a revoke answered "No such device";
// the event was never published. Now the devices.json write also holds what the command owes its
// sender, paid (reply and event, in one record) at the next start or by the resend.
// Also: a device whose pairing reply a kill cut off (nobody holds its token) is shown as never
// seen, replaced when that phone pairs again under the same name, and forgotten a day later.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { Device } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { killChildren, pairWithCli, runErrand } from '../helpers/cli.js';
import { WsTestClient } from '../helpers/ws-client.js';
import { Homes } from './helpers.js';

const homes = new Homes();
const children: ChildProcess[] = [];
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(async () => {
  await killChildren(children);
  await homes.cleanup();
});

const env = { ANTHROPIC_API_KEY: 'sk-test-key' };
const KILL_HOOK = path.join(import.meta.dirname, 'kill-after-rename.cjs');
/** The first write of devices.json made durable, then kill -9. */
const killAfterDevicesWrite = {
  NODE_OPTIONS: `--require ${KILL_HOOK}`,
  ERRAND_TEST_KILL_AFTER_RENAME: '/devices\\.json$',
};

const devicesFile = (home: string) => path.join(home, 'store', 'devices.json');
const readDevices = (home: string) =>
  JSON.parse(fs.readFileSync(devicesFile(home), 'utf8')) as { devices: Array<Device & { unconfirmed?: true }> };
const idsOf = (home: string) => readDevices(home).devices.map((d) => d.id);
/** What devices.json still owes (dropped once the journal holds the reply, just after it is sent). */
const owedIn = (home: string) => (JSON.parse(fs.readFileSync(devicesFile(home), 'utf8')) as { owed?: unknown[] }).owed;
const nothingOwed = (home: string) => vi.waitFor(() => expect(owedIn(home)).toBeUndefined(), { timeout: 5000 });

/**
 * The device events a client got (replayed and live), after a round trip so none is still on its
 * way; devices.list answers once the start has settled what a kill left owed.
 */
async function deviceEvents(ws: WsTestClient): Promise<string[]> {
  await ws.send({ type: 'devices.list' });
  return ws
    .events()
    .map((f) => f.event)
    .flatMap((e) =>
      e.kind === 'device.updated'
        ? [`updated ${e.device.name}`]
        : e.kind === 'device.revoked'
          ? [`revoked ${e.deviceId}`]
          : [],
    );
}
const nameOf = async (ws: WsTestClient, id: string) =>
  (await ws.send<Device[]>({ type: 'devices.list' })).find((d) => d.id === id)?.name;

it('a rename cut off by kill -9, then another device renames (acknowledged), then the first is sent again: it does not act again', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Phone B', 'Tablet C']);
  const [, , tabletC] = idsOf(home);
  const rename = { type: 'device.rename', deviceId: tabletC, name: 'Kitchen' } as const;
  const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'mid-append:rename-000001' });
  (await homes.connect(first.url, tokens[0])).sendRaw(JSON.stringify({ ...rename, id: 'rename-000001' }));
  expect((await first.exited).signal).toBe('SIGKILL');

  const second = await homes.start(home, env);
  const wsB = await homes.connect(second.url, tokens[1], 0);
  // The rename took effect before the kill: the event phones need to show it is published once.
  expect(await nameOf(wsB, tabletC)).toBe('Kitchen');
  await wsB.event('device.updated');
  await wsB.send({ type: 'device.rename', deviceId: tabletC, name: 'Office' }, 'rename-000002');

  const wsA = await homes.connect(second.url, tokens[0]);
  const resent = await wsA.send<Device>(rename, 'rename-000001');
  expect(resent.name).toBe('Kitchen'); // the first reply
  expect(await wsA.send<Device>(rename, 'rename-000001')).toEqual(resent);
  expect(await nameOf(wsB, tabletC)).toBe('Office'); // B's acknowledged rename stays
  expect(await deviceEvents(wsB)).toEqual(['updated Kitchen', 'updated Office']);

  // Once paid, the debt is gone from devices.json; one more kill -9 and start publishes nothing again.
  await nothingOwed(home);
  second.child.kill('SIGKILL');
  await second.exited;
  const third = await homes.start(home, env);
  const wsB3 = await homes.connect(third.url, tokens[1], 0);
  expect(await (await homes.connect(third.url, tokens[0])).send<Device>(rename, 'rename-000001')).toEqual(resent);
  expect(await deviceEvents(wsB3)).toEqual(['updated Kitchen', 'updated Office']);
}, 120_000);

it('a revoke cut off by kill -9: the token stays refused, the revoke is published once, the resend gets the first reply', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Phone B', 'Stolen C']);
  const [, , stolen] = idsOf(home);
  const revoke = { type: 'device.revoke', deviceId: stolen } as const;
  const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'mid-append:revoke-00001' });
  const wsA = await homes.connect(first.url, tokens[0]);
  await homes.connect(first.url, tokens[2]);
  wsA.sendRaw(JSON.stringify({ ...revoke, id: 'revoke-00001' }));
  expect((await first.exited).signal).toBe('SIGKILL');

  const second = await homes.start(home, env);
  await expect(WsTestClient.open(second.url, tokens[2])).rejects.toThrow(/auth refused/);
  const wsB = await homes.connect(second.url, tokens[1], 0);
  await wsB.event('device.revoked');
  const wsA2 = await homes.connect(second.url, tokens[0]);
  expect(await wsA2.send(revoke, 'revoke-00001')).toEqual({ revoked: stolen });
  expect(await wsA2.send(revoke, 'revoke-00001')).toEqual({ revoked: stolen });
  expect(await deviceEvents(wsB)).toEqual([`revoked ${stolen}`]);
  // A new id for the same revoke is a new command: the device is gone.
  expect(await wsA2.send(revoke, 'revoke-00002').catch((e) => e.code)).toBe('not_found');
}, 120_000);

it('a rename killed after its record was written, before devices.json was tidied: the restart publishes nothing twice', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Phone B']);
  const [, phoneB] = idsOf(home);
  const rename = { type: 'device.rename', deviceId: phoneB, name: 'Desk' } as const;
  const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'after-append:rename-000003' });
  (await homes.connect(first.url, tokens[0])).sendRaw(JSON.stringify({ ...rename, id: 'rename-000003' }));
  expect((await first.exited).signal).toBe('SIGKILL');
  expect(owedIn(home)).toHaveLength(1);

  const second = await homes.start(home, env);
  const wsA = await homes.connect(second.url, tokens[0], 0);
  expect((await wsA.send<Device>(rename, 'rename-000003')).name).toBe('Desk');
  expect(await deviceEvents(wsA)).toEqual(['updated Desk']);
  await nothingOwed(home);
}, 120_000);

it('a revoke from the CLI killed right after devices.json was written: the device stays out and its revoke is published', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Old tablet']);
  const [, tablet] = idsOf(home);
  const first = await homes.start(home, { ...env, ...killAfterDevicesWrite });
  const cli = await runErrand(['devices', 'revoke', tablet], { ERRAND_HOME: home, ...env });
  expect(cli.code).not.toBe(0); // the daemon died before it answered
  expect((await first.exited).signal).toBe('SIGKILL');

  const second = await homes.start(home, env);
  await expect(WsTestClient.open(second.url, tokens[1])).rejects.toThrow(/auth refused/);
  const wsA = await homes.connect(second.url, tokens[0], 0);
  await wsA.event('device.revoked');
  expect(await deviceEvents(wsA)).toEqual([`revoked ${tablet}`]);
}, 120_000);

it('a pairing whose reply a kill cut off: listed as never seen, replaced when the phone pairs again under its name', async () => {
  const { home, tokens } = await homes.home(['Phone A']);
  const first = await homes.start(home, { ...env, ...killAfterDevicesWrite });
  const lost = await pairWithCli({ ERRAND_HOME: home }, first.url, 'New phone', children).catch((e) => e.message);
  expect(lost).toMatch(/fetch failed/); // the phone never got its token
  expect((await first.exited).signal).toBe('SIGKILL');
  await killChildren(children);

  const second = await homes.start(home, env);
  const wsA = await homes.connect(second.url, tokens[0]);
  const orphan = (await wsA.send<Device[]>({ type: 'devices.list' })).find((d) => d.name === 'New phone');
  expect(orphan?.lastSeenAt).toBeUndefined(); // "last seen never"
  const token = await pairWithCli({ ERRAND_HOME: home }, second.url, 'New phone', children);
  await homes.connect(second.url, token);
  // A device whose token was used is never replaced by a pairing of the same name.
  await pairWithCli({ ERRAND_HOME: home }, second.url, 'Phone A', children);
  const names = (await wsA.send<Device[]>({ type: 'devices.list' })).map((d) => d.name).sort();
  expect(names).toEqual(['New phone', 'Phone A', 'Phone A']);
  expect(readDevices(home).devices.map((d) => d.id)).not.toContain(orphan?.id);
}, 120_000);

it('a device paired a day ago whose token was never used is forgotten at start; an older store device without the mark stays', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Never used', 'From an older release']);
  const doc = readDevices(home);
  const dayAgo = Date.now() - 25 * 60 * 60_000;
  for (const d of doc.devices) d.pairedAt = dayAgo;
  delete doc.devices[0].unconfirmed; // used since
  delete doc.devices[2].unconfirmed; // written before devices were marked
  fs.writeFileSync(devicesFile(home), JSON.stringify(doc), { mode: 0o600 });

  const d = await homes.start(home, env);
  const ws = await homes.connect(d.url, tokens[0]);
  const names = (await ws.send<Device[]>({ type: 'devices.list' })).map((x) => x.name);
  expect(names).toEqual(['Phone A', 'From an older release']);
  expect(readDevices(home).devices.map((x) => x.name)).toEqual(names);
}, 120_000);
