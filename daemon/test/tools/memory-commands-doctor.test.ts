// `errand doctor` names a damaged file of noted phone memory commands, and one start moved aside:
// after it, a phone's command sent again may have acted again, and the person is told to look.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { checkNotedMemoryCommands } from '../../src/doctor/memory-commands-check.js';
import { MemoryService } from '../../src/tools/memory/service.js';

let home: string;
let store: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-noted-doctor-'));
  store = path.join(home, 'store');
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

const started = () => new MemoryService(path.join(home, 'memory'), path.join(home, 'instructions.md'));
const phone = { kind: 'device', deviceId: 'dev_a', deviceName: 'Phone A' } as const;

it('nothing noted yet: no check; noted commands: valid', async () => {
  expect(await checkNotedMemoryCommands(store)).toEqual([]);
  await started().write('/memories/a.md', 'text', phone, undefined, { device: 'dev_a', id: 'putcmd-0001' });
  expect(await checkNotedMemoryCommands(store)).toMatchObject([{ status: 'ok', detail: 'valid (1 noted command)' }]);
});

it('damaged: named before the start that moves it aside, and the copy kept aside named after it', async () => {
  fs.mkdirSync(store, { recursive: true });
  const file = path.join(store, 'memory-clear.json');
  fs.writeFileSync(file, '{"v":1,"commands":[{"dev');

  const before = await checkNotedMemoryCommands(store);
  expect(before).toMatchObject([
    { status: 'warn', detail: expect.stringContaining(`${file} is damaged (it is not valid JSON)`) },
  ]);
  expect(fs.readFileSync(file, 'utf8')).toBe('{"v":1,"commands":[{"dev'); // doctor changes nothing

  const damage = await started().settleCommands();
  const after = await checkNotedMemoryCommands(store);
  expect(after).toMatchObject([{ status: 'warn', detail: expect.stringContaining(damage!.movedTo) }]);
  expect(after[0].fix).toContain('errand memory list');
});
