// Temp files a crash leaves are removed at the next start: in the user's folders, the ones the file
// tools noted before creating them (never a file they did not note, never through a link); in the
// home folder, the ones durable writes of config.json and its neighbours make.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';
import { writeAtomicIn } from '../../src/tools/no-follow.js';
import { closeTempLedger, noteTemp, openTempLedger } from '../../src/tools/temp-ledger.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-temps-')));
  dirs.push(d);
  return d;
};
afterEach(() => {
  closeTempLedger();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('temp files in the user folders', () => {
  it('a noted temp file left by a crash is removed at the next start; others are left alone', () => {
    const state = tempDir();
    const folder = tempDir();
    const ledger = path.join(state, 'temp-files');
    expect(openTempLedger(ledger)).toBe(0);
    // A write got as far as creating its temp file, then the process died.
    noteTemp(folder, '.errand-0123456789ab.tmp');
    fs.writeFileSync(path.join(folder, '.errand-0123456789ab.tmp'), 'half');
    // A file of the same shape nobody noted, and a noted name that is now a link to elsewhere.
    fs.writeFileSync(path.join(folder, '.errand-bbbbbbbbbbbb.tmp'), 'not ours');
    const elsewhere = path.join(tempDir(), 'keep.txt');
    fs.writeFileSync(elsewhere, 'keep');
    noteTemp(folder, '.errand-cccccccccccc.tmp');
    fs.symlinkSync(elsewhere, path.join(folder, '.errand-cccccccccccc.tmp'));
    closeTempLedger();

    expect(openTempLedger(ledger)).toBe(1);
    expect(fs.readdirSync(folder).sort()).toEqual(['.errand-bbbbbbbbbbbb.tmp', '.errand-cccccccccccc.tmp']);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('keep');
  });

  it('a finished write leaves nothing behind, in the folder or in the ledger', async () => {
    const state = tempDir();
    const folder = tempDir();
    const ledger = path.join(state, 'temp-files');
    openTempLedger(ledger);
    await writeAtomicIn(folder, 'notes.md', Buffer.from('# Notes'));
    await writeAtomicIn(folder, 'more.md', Buffer.from('# More'));
    expect(fs.readdirSync(folder).sort()).toEqual(['more.md', 'notes.md']);
    expect(fs.statSync(ledger).size).toBe(0);
    // After the ledger emptied, a write cut off by a crash is still noted from the start, and found.
    noteTemp(folder, '.errand-dddddddddddd.tmp');
    fs.writeFileSync(path.join(folder, '.errand-dddddddddddd.tmp'), 'half');
    expect(fs.readFileSync(ledger, 'utf8')).toBe(`${path.join(folder, '.errand-dddddddddddd.tmp')}\n`);
    closeTempLedger();
    expect(openTempLedger(ledger)).toBe(1);
    expect(fs.readdirSync(folder).sort()).toEqual(['more.md', 'notes.md']);
  });
});

describe('temp files in the home folder', () => {
  it('durable-write leftovers beside config.json are removed at start; other files stay', async () => {
    const home = tempDir();
    fs.writeFileSync(path.join(home, '.config.json.4242-0a1b2c3d.tmp'), '{"half":');
    fs.writeFileSync(path.join(home, '.secrets.json.77-deadbeef.tmp'), '{}');
    fs.writeFileSync(path.join(home, 'my-notes.tmp'), 'mine');
    const td = await startTestDaemon({ home });
    try {
      expect(fs.readdirSync(home).filter((n) => n.endsWith('.tmp'))).toEqual(['my-notes.tmp']);
    } finally {
      await td.stop();
    }
  });
});

describe('a home folder reached through a link', () => {
  it('works as its real path: the memory tool can write in it', async () => {
    const base = tempDir();
    fs.mkdirSync(path.join(base, 'real-local'));
    fs.symlinkSync(path.join(base, 'real-local'), path.join(base, 'local'));
    const model = await startModelServer();
    const td = await startTestDaemon({
      home: path.join(base, 'local', 'errand'),
      env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    });
    try {
      model.push(
        reply(toolUse('memory', { command: 'create', path: '/memories/n.md', file_text: 'hi' })),
        reply(text('Noted.')),
      );
      const phone = await td.connect();
      const { task } = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'remember hi' });
      await phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
      expect(fs.readFileSync(path.join(base, 'real-local', 'errand', 'memory', 'n.md'), 'utf8')).toBe('hi');
    } finally {
      await td.stop();
      await model.close();
    }
  });
});

describe('undo after the home moved to its real path', () => {
  it('restores an item trashed through the old linked path, and removes nothing but its slot', async () => {
    const base = tempDir();
    fs.mkdirSync(path.join(base, 'real', 'home', 'store'), { recursive: true });
    fs.writeFileSync(path.join(base, 'real', 'home', 'store', 'keep.json'), '{}');
    fs.symlinkSync(path.join(base, 'real'), path.join(base, 'link'));
    const work = tempDir();
    fs.writeFileSync(path.join(work, 'notes.txt'), 'notes');
    const viaLink = path.join(base, 'link', 'home');
    const before = new ChangeJournal(path.join(viaLink, 'journal'), path.join(viaLink, 'trash'));
    await before.trash('task_old', path.join(work, 'notes.txt'));
    const real = path.join(base, 'real', 'home');
    const after = new ChangeJournal(path.join(real, 'journal'), path.join(real, 'trash'));
    const result = await after.undo('task_old');
    expect(result.restored).toEqual([path.join(work, 'notes.txt')]);
    expect(fs.readFileSync(path.join(work, 'notes.txt'), 'utf8')).toBe('notes');
    expect(fs.readFileSync(path.join(real, 'store', 'keep.json'), 'utf8')).toBe('{}');
  });
});
