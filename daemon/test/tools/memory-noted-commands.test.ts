// A phone's memory command noted before it acts, with a crash between the two steps: the note left
// "begun" is settled at the next start from what is on disk. A put whose text is there counts as
// done (a delete made after it stays, through any number of restarts); a put whose text never got
// there runs when sent again. Each new MemoryService over the same folders is a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MemoryService } from '../../src/tools/memory/service.js';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-noted-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

const phone = { kind: 'device', deviceId: 'dev_phone', deviceName: 'Phone' } as const;
const put = { device: 'dev_phone', id: 'putcmd-0001' };
const started = () => new MemoryService(path.join(home, 'memory'), path.join(home, 'instructions.md'));
const notesFile = () => path.join(home, 'store', 'memory-clear.json');
const note = () => path.join(home, 'memory', 'a.md');

/** The notes as a crash right after the command acted leaves them: begun, not yet marked done. */
function crashBeforeDone(): void {
  const doc = JSON.parse(fs.readFileSync(notesFile(), 'utf8')) as { commands: Array<{ done: boolean }> };
  for (const c of doc.commands) c.done = false;
  fs.writeFileSync(notesFile(), JSON.stringify(doc));
}

it('a put that wrote but was not marked done: settled at start as done, a later delete stays', async () => {
  await started().write('/memories/a.md', 'first', phone, undefined, put);
  crashBeforeDone();

  const second = started();
  await second.remove('/memories/a.md', { device: 'dev_phone', id: 'delcmd-0001' });
  const again = await second.write('/memories/a.md', 'first', phone, undefined, put);
  expect(again).toMatchObject({ path: '/memories/a.md', bytes: 5 });
  expect(fs.existsSync(note())).toBe(false);

  // The settling was durable: another start does not look again, with the note now gone.
  await started().write('/memories/a.md', 'first', phone, undefined, put);
  expect(fs.existsSync(note())).toBe(false);
});

it('a put noted but not written (the crash came first): sent again, it writes', async () => {
  fs.mkdirSync(path.join(home, 'store'), { recursive: true });
  const sha256 = 'f'.repeat(64); // not the hash of the text: it never got there
  const begun = { ...put, op: 'put', path: '/memories/a.md', sha256, bytes: 5, done: false };
  fs.writeFileSync(notesFile(), JSON.stringify({ v: 1, commands: [begun] }));

  const entry = await started().write('/memories/a.md', 'first', phone, undefined, put);
  expect(entry.bytes).toBe(5);
  expect(fs.readFileSync(note(), 'utf8')).toBe('first');
});

it('instructions written but not marked done: sent again after newer ones, the newer stay', async () => {
  await started().setInstructions('be brief', put);
  crashBeforeDone();

  const second = started();
  await second.setInstructions('be detailed', { device: 'dev_phone', id: 'putcmd-0002' });
  expect(await second.setInstructions('be brief', put)).toBe('be brief');
  expect(await second.instructions()).toBe('be detailed');
});

it('a clear noted by an older daemon (memory-clear.json) and cut off: sent again, it finishes with its count', async () => {
  fs.mkdirSync(path.join(home, 'store'), { recursive: true });
  fs.mkdirSync(path.join(home, 'memory'));
  fs.writeFileSync(path.join(home, 'memory', 'left.md'), 'left');
  fs.writeFileSync(notesFile(), JSON.stringify({ device: 'dev_phone', id: 'clrcmd-0001', removed: 3 }));

  expect(await started().clear({ device: 'dev_phone', id: 'clrcmd-0001' })).toBe(3);
  expect(fs.readdirSync(path.join(home, 'memory'))).toEqual([]);
});
