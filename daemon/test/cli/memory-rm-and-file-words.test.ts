// `errand memory rm` of a note that is not there says so and exits 1 (it used to print "Deleted"),
// while a phone's memory.delete of a missing note, sent again after a lost reply, stays answered as
// done; `errand memory edit --file` of a file it cannot read says which and why, not a raw errno.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

async function errand(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { ERRAND_HOME: td.home },
    interactive: false,
    confirm: async () => false,
  };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

it('rm of a note that does not exist: said, nothing deleted, exit 1; of one that does: deleted, exit 0', async () => {
  const missing = await errand(['memory', 'rm', 'nope.md']);
  expect(missing).toEqual({
    code: 1,
    out: '',
    err: 'errand memory: /memories/nope.md does not exist; nothing deleted (`errand memory` lists the notes).',
  });

  expect((await errand(['memory', 'edit', 'kept.md', '--text', 'Reports as PDF.'])).code).toBe(0);
  const note = path.join(td.daemon.ctx.paths.memory, 'kept.md');
  expect(fs.existsSync(note)).toBe(true);
  expect(await errand(['memory', 'rm', 'kept.md'])).toEqual({ code: 0, out: 'Deleted /memories/kept.md.', err: '' });
  expect(fs.existsSync(note)).toBe(false);
  // A second rm is the mistaken one now.
  const again = await errand(['memory', 'rm', 'kept.md']);
  expect(again.code).toBe(1);
  expect(again.err).toContain('/memories/kept.md does not exist; nothing deleted');
});

it("a phone's delete of a missing note is still answered as done, sent once or again", async () => {
  const phone = await td.connect();
  const id = 'delete-nope-1';
  expect(await phone.send({ type: 'memory.delete', path: '/memories/nope.md' }, id)).toEqual({});
  expect(await phone.send({ type: 'memory.delete', path: '/memories/nope.md' }, id)).toEqual({});
  expect(await phone.send({ type: 'memory.delete', path: '/memories/nope.md' })).toEqual({});
});

it('edit --file of a file that cannot be read says which and why, and changes nothing', async () => {
  const folder = tempHome('errand-memory-file-');
  try {
    const absent = path.join(folder, 'absent.md');
    const r = await errand(['memory', 'edit', 'prefs.md', '--file', absent]);
    expect(r).toEqual({
      code: 1,
      out: '',
      err: `errand memory edit: ${absent} does not exist (check the path after --file); nothing changed.`,
    });
    const dir = await errand(['memory', 'edit', 'prefs.md', '--file', folder]);
    expect(dir.code).toBe(1);
    expect(dir.err).toBe(`errand memory edit: ${folder} is a folder; --file takes a file; nothing changed.`);
    expect(r.err + dir.err).not.toMatch(/ENOENT|EISDIR/);
    expect(fs.existsSync(path.join(td.daemon.ctx.paths.memory, 'prefs.md'))).toBe(false);

    // A readable file still works.
    const given = path.join(folder, 'prefs.md');
    fs.writeFileSync(given, 'Reports as Markdown.');
    expect((await errand(['memory', 'edit', 'prefs.md', '--file', given])).code).toBe(0);
    expect(fs.readFileSync(path.join(td.daemon.ctx.paths.memory, 'prefs.md'), 'utf8')).toBe('Reports as Markdown.');
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
