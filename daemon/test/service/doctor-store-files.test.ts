// `errand doctor` checks the small store files start reads (store/devices.json, store/push.json,
// vapid.json) with start's own code: a file start would refuse is a FAIL with start's message as
// the fix, not "all good" next to "daemon not running". Doctor changes none of them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { type Check, runDoctor } from '../../src/doctor/index.js';
import { PushStore } from '../../src/push/store.js';
import { loadOrCreateVapidKeys } from '../../src/push/vapid.js';
import { recordingRunner } from '../../src/service/runner.js';
import { DeviceStore } from '../../src/store/devices.js';
import { createLogger } from '../../src/util/log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmpHome = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-doctor-store-files-'));
  dirs.push(d);
  fs.mkdirSync(path.join(d, 'store'), { mode: 0o700 });
  return homePaths(d);
};

const offline: typeof fetch = async () => {
  throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
};

async function doctor(home: string): Promise<Map<string, Check>> {
  const checks = await runDoctor({
    home,
    env: { PATH: '/usr/bin:/bin', HOME: path.join(home, 'user') },
    platform: 'linux',
    run: recordingRunner().run,
    fetch: offline,
    timeoutMs: 500,
  });
  return new Map(checks.map((c) => [c.id, c]));
}

/** Every file under a folder with its bytes and mode: to see that doctor changed nothing. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = `${fs.statSync(p).mode.toString(8)} ${fs.readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}

/** What start says when it refuses the file (the loaders start uses). */
const startRefusal = (open: () => Promise<unknown>) =>
  open().then(
    () => expect.unreachable('start would accept it'),
    (e: Error) => e.message,
  );

it('devices.json, push.json or vapid.json that start refuses: doctor FAILs with start message as the fix and changes nothing', async () => {
  const paths = tmpHome();
  const devices = path.join(paths.store, 'devices.json');
  const push = path.join(paths.store, 'push.json');
  fs.writeFileSync(devices, '{"schema": 1, "devices": [', { mode: 0o600 });
  fs.writeFileSync(push, JSON.stringify({ schema: 1, subscriptions: 'none', outcomes: [], pushedKeys: [] }), {
    mode: 0o600,
  });
  fs.writeFileSync(paths.vapid, '{}', { mode: 0o600 });
  const before = contents(paths.home);

  const checks = await doctor(paths.home);
  const cases: Array<[string, string, () => Promise<unknown>]> = [
    ['storeFile:devices.json', devices, () => DeviceStore.open(paths.store)],
    ['storeFile:push.json', push, () => PushStore.open(paths.store)],
    ['storeFile:vapid.json', paths.vapid, () => loadOrCreateVapidKeys(paths.vapid, createLogger({ stderr: false }))],
  ];
  for (const [id, file, open] of cases) {
    const check = checks.get(id);
    expect(check, id).toMatchObject({ status: 'fail' });
    expect(check!.detail).toContain('Errand will not start');
    expect(check!.fix).toBe(await startRefusal(open));
    expect(check!.fix).toContain(file);
    expect(check!.fix).toContain('Restore it from');
  }
  expect(contents(paths.home)).toEqual(before);
});

it('valid files are ok with what they hold; missing ones are not created; a key file others can read is a warning, left as it is', async () => {
  const paths = tmpHome();
  let checks = await doctor(paths.home);
  for (const id of ['storeFile:devices.json', 'storeFile:push.json', 'storeFile:vapid.json'])
    expect(checks.has(id), id).toBe(false);
  expect(fs.readdirSync(paths.store)).toEqual([]);
  expect(fs.existsSync(paths.vapid)).toBe(false);

  const store = await DeviceStore.open(paths.store);
  await store.add('Phone', undefined);
  await (await PushStore.open(paths.store)).adoptVapidKey('key'); // writes push.json
  await loadOrCreateVapidKeys(paths.vapid, createLogger({ stderr: false }));
  checks = await doctor(paths.home);
  expect(checks.get('storeFile:devices.json')).toMatchObject({ status: 'ok', detail: 'valid (1 paired device)' });
  expect(checks.get('storeFile:push.json')).toMatchObject({ status: 'ok', detail: 'valid (0 push subscriptions)' });
  expect(checks.get('storeFile:vapid.json')).toMatchObject({ status: 'ok', detail: 'valid key pair' });

  fs.chmodSync(paths.vapid, 0o644);
  const before = contents(paths.home);
  checks = await doctor(paths.home);
  expect(checks.get('storeFile:vapid.json')).toMatchObject({ status: 'warn' });
  expect(checks.get('storeFile:vapid.json')!.fix).toContain(`chmod 600 ${paths.vapid}`);
  expect(contents(paths.home)).toEqual(before);
});
