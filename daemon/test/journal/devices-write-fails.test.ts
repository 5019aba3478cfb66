// Every change to the device list either is written to devices.json or does not happen: a write
// that fails (a full disk) leaves the list in memory as it was, so the next write, of anything,
// does not carry it to disk either. (Each change used to be made in memory first and never undone.)
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { DeviceStore } from '../../src/store/devices.js';
import { DiskFullError } from '../../src/store/journal.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function storeWith(names: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-devices-'));
  dirs.push(dir);
  const devices = await DeviceStore.open(dir);
  const tokens: string[] = [];
  for (const name of names) tokens.push((await devices.add(name, undefined)).token);
  return { dir, devices, tokens, file: path.join(dir, 'devices.json') };
}

/** The next devices.json write fails as on a full disk (its temp file cannot be opened). */
function nextWriteFails(): void {
  const open = fsp.open;
  const spy = vi.spyOn(fsp, 'open').mockImplementation(async (file, ...rest) => {
    if (/devices\.json\..*\.tmp$/.test(String(file))) {
      spy.mockRestore();
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${file}'`), { code: 'ENOSPC' });
    }
    return open(file, ...rest);
  });
}

const state = (devices: DeviceStore) => JSON.stringify({ devices: devices.list(), owed: devices.owed() });
const owed = (target: string, change: 'rename' | 'revoke') => ({
  device: 'dev_sender',
  id: `${change}-000001`,
  change,
  target,
  reply: { revoked: target },
});

const failing: Array<[string, (devices: DeviceStore, ids: string[], tokens: string[]) => Promise<unknown>]> = [
  ['add', (devices) => devices.add('Phone D', undefined)],
  ['rename', (devices, ids) => devices.rename(ids[0], 'Kitchen', owed(ids[0], 'rename'))],
  ['remove', (devices, ids) => devices.remove(ids[2], owed(ids[2], 'revoke'))],
  ['forgetUnconfirmed', (devices) => devices.forgetUnconfirmed(Date.now() + 1)],
];

for (const [change, make] of failing)
  it(`${change}: a failed write rejects with DiskFullError and changes nothing, in memory or with the next write`, async () => {
    const { dir, devices, tokens, file } = await storeWith(['Phone A', 'Phone B', 'Stolen C']);
    const ids = devices.list().map((d) => d.id);
    const inMemory = state(devices);
    const onDisk = fs.readFileSync(file, 'utf8');

    nextWriteFails();
    const err = await make(devices, ids, tokens).catch((e) => e);
    expect(state(devices)).toBe(inMemory);
    expect(fs.readFileSync(file, 'utf8')).toBe(onDisk);
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as Error).message).toBe(`disk full at ${dir}`);
    // The token of a device a failed revoke named still works.
    expect(devices.byToken(tokens[2])?.id).toBe(ids[2]);

    // The next write (another change) holds only its own change.
    await devices.rename(ids[1], 'Office');
    const written = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(written.devices.map((d: { name: string }) => d.name)).toEqual(['Phone A', 'Office', 'Stolen C']);
    expect(written.owed).toBeUndefined();
  });

it('confirm (first use of a token): a failed write leaves the device unconfirmed; the next use confirms it', async () => {
  const { devices, tokens, file } = await storeWith(['Phone A']);
  const unconfirmed = () => JSON.parse(fs.readFileSync(file, 'utf8')).devices[0].unconfirmed;
  nextWriteFails();
  expect(devices.byToken(tokens[0])?.name).toBe('Phone A');
  await devices.flush().catch(() => undefined); // waits for the confirm's turn
  expect(devices.list()[0].unconfirmed).toBe(true);
  expect(unconfirmed()).toBe(true);
  // Presented in this run, it is not forgotten as never used, though its confirm was not written.
  expect(await devices.forgetUnconfirmed(Date.now() + 1)).toEqual([]);
  devices.byToken(tokens[0]);
  await devices.flush();
  expect(devices.list()[0].unconfirmed).toBeUndefined();
  expect(unconfirmed()).toBeUndefined();
});

it('settle: a failed write keeps what is owed, in memory and on disk', async () => {
  const { devices, file } = await storeWith(['Phone A']);
  const id = devices.list()[0].id;
  await devices.rename(id, 'Kitchen', owed(id, 'rename'));
  nextWriteFails();
  const err = await devices.settle(() => true).catch((e) => e);
  expect(devices.owed()).toHaveLength(1);
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).owed).toHaveLength(1);
  expect(err).toBeInstanceOf(DiskFullError);
  await devices.settle(() => true);
  expect(devices.owed()).toEqual([]);
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).owed).toBeUndefined();
});

it('changes made at once each start from the one before: none is lost', async () => {
  const { devices, file } = await storeWith(['Phone A', 'Phone B', 'Phone C']);
  const [a, b, c] = devices.list().map((d) => d.id);
  const done = await Promise.all([
    devices.rename(a, 'Kitchen'),
    devices.remove(b),
    devices.rename(c, 'Office'),
    devices.add('Phone D', undefined),
    devices.remove(b),
  ]);
  expect(done[4]).toBe(false); // removed already by the one before it
  const names = ['Kitchen', 'Office', 'Phone D'];
  expect(devices.list().map((d) => d.name)).toEqual(names);
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).devices.map((d: { name: string }) => d.name)).toEqual(names);
});
