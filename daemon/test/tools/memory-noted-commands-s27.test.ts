// The file of a phone's noted memory commands (noted-commands.ts), and the commands around it.
// - Damaged: one bad entry loses only itself; a file with any damage is moved aside whole and
//   reported, never read as empty in silence and then written over by the next command.
// - Bounded per device: another device's many commands do not push out a device's own notes, so
//   its resend after a crash still answers without acting.
// - A task's delete (outside the memory lock) right after a phone's put wrote: the put is done.
// - A clear cut off halfway finishes only what it noted; a note saved in a noted folder since stays.
// Each new MemoryService over the same folders is a restart.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { NOTED_COMMANDS } from '../../src/tools/memory/noted-commands.js';
import { MemoryService } from '../../src/tools/memory/service.js';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-noted-s27-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(home, { recursive: true, force: true });
});

const phone = { kind: 'device', deviceId: 'dev_a', deviceName: 'Phone A' } as const;
const started = () => new MemoryService(path.join(home, 'memory'), path.join(home, 'instructions.md'));
const notesFile = () => path.join(home, 'store', 'memory-clear.json');
const note = (name: string) => path.join(home, 'memory', name);
const asideFiles = () => fs.readdirSync(path.join(home, 'store')).filter((n) => n.includes('.damaged-'));
type NotesDoc = { v: 1; commands: Array<Record<string, unknown>> };
const notesDoc = (): NotesDoc => JSON.parse(fs.readFileSync(notesFile(), 'utf8'));

it('one damaged entry: only it is lost, the file is kept aside whole and reported, the others still hold', async () => {
  const first = started();
  await first.write('/memories/a.md', 'first', phone, undefined, { device: 'dev_a', id: 'putcmd-0001' });
  await first.write('/memories/b.md', 'second', phone, undefined, { device: 'dev_a', id: 'putcmd-0002' });
  const doc = notesDoc();
  doc.commands[0].done = 'yes'; // one field, as a bit flip or another version would give
  const damaged = JSON.stringify(doc);
  fs.writeFileSync(notesFile(), damaged);

  const second = started();
  const damage = await second.settleCommands();
  expect(damage).toMatchObject({ file: notesFile(), problem: '1 of its 2 noted commands could not be read', kept: 1 });
  expect(asideFiles()).toEqual([path.basename(damage!.movedTo)]);
  expect(fs.readFileSync(damage!.movedTo, 'utf8')).toBe(damaged);
  // Written back: the command that could be read (the file never holds the damaged one again).
  expect(notesDoc().commands.map((c) => c.id)).toEqual(['putcmd-0002']);

  // The readable one still answers without acting: b.md deleted since stays deleted.
  await second.remove('/memories/b.md', { device: 'dev_b', id: 'delcmd-0001' });
  await second.write('/memories/b.md', 'second', phone, undefined, { device: 'dev_a', id: 'putcmd-0002' });
  expect(fs.existsSync(note('b.md'))).toBe(false);
  // The next start finds nothing wrong, and the aside file is as it was.
  expect(await started().settleCommands()).toBeUndefined();
  expect(fs.readFileSync(damage!.movedTo, 'utf8')).toBe(damaged);
});

it('a file that is not JSON: moved aside and reported, and commands go on', async () => {
  fs.mkdirSync(path.join(home, 'store'), { recursive: true });
  fs.writeFileSync(notesFile(), '{"v":1,"commands":[{"dev');

  const m = started();
  const damage = await m.settleCommands();
  expect(damage).toMatchObject({ problem: 'it is not valid JSON', kept: 0 });
  expect(fs.readFileSync(damage!.movedTo, 'utf8')).toBe('{"v":1,"commands":[{"dev');
  await m.write('/memories/a.md', 'text', phone, undefined, { device: 'dev_a', id: 'putcmd-0001' });
  expect(fs.readFileSync(damage!.movedTo, 'utf8')).toBe('{"v":1,"commands":[{"dev');
});

it('a damaged file that cannot be moved aside: left as it is, and phone commands wait, saying why', async () => {
  fs.mkdirSync(path.join(home, 'store'), { recursive: true });
  fs.writeFileSync(notesFile(), 'not json');
  const rename = fsp.rename;
  vi.spyOn(fsp, 'rename').mockImplementation(async (from, to) => {
    if (String(to).includes('.damaged-')) throw Object.assign(new Error('refused'), { code: 'EACCES' });
    return rename(from, to);
  });

  const m = started();
  const put = m.write('/memories/a.md', 'text', phone, undefined, { device: 'dev_a', id: 'putcmd-0001' });
  await expect(put).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('move that file') });
  expect(fs.readFileSync(notesFile(), 'utf8')).toBe('not json');
  expect(fs.existsSync(note('a.md'))).toBe(false);
});

it("another device's many commands do not push out a device's own: its resend still does not act", async () => {
  const m = started();
  const put = { device: 'dev_a', id: 'putcmd-0001' };
  await m.write('/memories/a.md', 'from A', phone, undefined, put);
  await m.remove('/memories/a.md', { device: 'dev_b', id: 'delcmd-0000' });
  for (let i = 1; i <= NOTED_COMMANDS; i++)
    await m.remove('/memories/none.md', { device: 'dev_b', id: `delcmd-${String(i).padStart(4, '0')}` });

  await started().write('/memories/a.md', 'from A', phone, undefined, put);
  expect(fs.existsSync(note('a.md'))).toBe(false);
}, 60_000);

it("a task's delete right after a phone's put wrote: the put is done, and sent again does not write", async () => {
  const m = started();
  const put = { device: 'dev_a', id: 'putcmd-0001' };
  // The memory tool's delete does not wait for the memory lock: here it lands just after the write.
  const wrote = m.authors.wrote.bind(m.authors);
  vi.spyOn(m.authors, 'wrote').mockImplementation(async (name, by) => {
    await wrote(name, by);
    fs.unlinkSync(note('a.md'));
  });
  const entry = await m.write('/memories/a.md', 'text', phone, undefined, put);
  expect(entry).toMatchObject({ path: '/memories/a.md', bytes: 4 });
  vi.restoreAllMocks();

  expect(await started().write('/memories/a.md', 'text', phone, undefined, put)).toMatchObject({ bytes: 4 });
  expect(fs.existsSync(note('a.md'))).toBe(false);
});

it("a task's delete just before a phone's delete removes the note: the phone's delete is done, not failed", async () => {
  const m = started();
  await m.write('/memories/a.md', 'text', phone);
  const unlink = fsp.unlink;
  vi.spyOn(fsp, 'unlink').mockImplementation(async (p) => {
    await unlink(p); // the task's, first
    return unlink(p);
  });
  expect(await m.remove('/memories/a.md', { device: 'dev_a', id: 'delcmd-0001' })).toBe(true);
});

it('a clear cut off halfway, a note saved since in a folder it noted: sent again, it finishes what it noted only', async () => {
  fs.mkdirSync(path.join(home, 'memory', 'topic', 'old'), { recursive: true });
  fs.writeFileSync(note('a.md'), 'a');
  fs.writeFileSync(note('topic/b.md'), 'b');
  fs.writeFileSync(note('topic/old/c.md'), 'c');
  fs.writeFileSync(note('topic/d.md'), 'd');
  const clear = { device: 'dev_a', id: 'clrcmd-0001' };
  // The "crash": the second file removed is where the first run stops (its note stays begun).
  const rm = fsp.rm;
  let removed = 0;
  vi.spyOn(fsp, 'rm').mockImplementation(async (p, o) => {
    if (++removed === 2) throw Object.assign(new Error('stopped'), { code: 'EIO' });
    return rm(p, o);
  });
  await expect(started().clear(clear)).rejects.toThrow('stopped');
  vi.restoreAllMocks();

  const second = started();
  await second.write('/memories/topic/new.md', 'saved since', phone, undefined, { device: 'dev_b', id: 'putcmd-0001' });
  expect(await second.clear(clear)).toBe(4);
  expect(fs.readdirSync(path.join(home, 'memory'))).toEqual(['topic']);
  expect(fs.readdirSync(path.join(home, 'memory', 'topic'))).toEqual(['new.md']);
  // Done now: its list of what to remove is not kept, only the count it answers with.
  expect(notesDoc().commands.find((c) => c.id === 'clrcmd-0001')).toEqual({
    ...clear,
    op: 'clear',
    removed: 4,
    done: true,
  });
});

it('a note rewritten after a clear was cut off is not the one noted: the clear sent again leaves it', async () => {
  fs.mkdirSync(path.join(home, 'memory'));
  fs.writeFileSync(note('a.md'), 'a');
  fs.writeFileSync(note('b.md'), 'b');
  const clear = { device: 'dev_a', id: 'clrcmd-0001' };
  vi.spyOn(fsp, 'rm').mockRejectedValueOnce(Object.assign(new Error('stopped'), { code: 'EIO' }));
  await expect(started().clear(clear)).rejects.toThrow('stopped');
  vi.restoreAllMocks();

  const second = started();
  await second.write('/memories/a.md', 'a again', phone, undefined, { device: 'dev_b', id: 'putcmd-0001' });
  expect(await second.clear(clear)).toBe(2);
  expect(fs.readdirSync(path.join(home, 'memory'))).toEqual(['a.md']);
  expect(fs.readFileSync(note('a.md'), 'utf8')).toBe('a again');
});
