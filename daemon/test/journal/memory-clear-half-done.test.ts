// A phone's memory.clear killed (-9) between two of the files it removes: after the restart the
// clear is begun, not done. Another phone then saves a note, acknowledged. When the first phone
// sends the clear again, it finishes what it noted before the crash and nothing more: the note saved
// since stays, and the reply is the count it noted. Before, the resend emptied the folder again and
// took the acknowledged note with it. Also: a damaged file of noted commands is said in the log and
// moved aside, never read as empty and written over.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { Homes } from './helpers.js';

const homes = new Homes();
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => homes.cleanup());

const env = { ANTHROPIC_API_KEY: 'sk-test-key' };
const KILL_HOOK = path.join(import.meta.dirname, 'kill-after-rm.cjs');
const clear = { type: 'memory.clear' } as const;
const notes = (home: string) => fs.readdirSync(path.join(home, 'memory')).sort();

it('a clear killed after its first file, a note saved after the restart, the clear sent again: the new note stays', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Phone B']);
  const [phoneA, phoneB] = tokens;
  fs.mkdirSync(path.join(home, 'memory'), { mode: 0o700 });
  fs.writeFileSync(path.join(home, 'memory', 'a.md'), 'note a');
  fs.writeFileSync(path.join(home, 'memory', 'b.md'), 'note b');

  const first = await homes.start(home, {
    ...env,
    NODE_OPTIONS: `--require ${KILL_HOOK}`,
    ERRAND_TEST_KILL_AFTER_RM: '/memory/',
  });
  (await homes.connect(first.url, phoneA)).sendRaw(JSON.stringify({ ...clear, id: 'clrcmd-0001' }));
  expect((await first.exited).signal).toBe('SIGKILL');
  expect(notes(home)).toHaveLength(1); // half done: one of the two removed

  const second = await homes.start(home, env);
  const wsB = await homes.connect(second.url, phoneB);
  await wsB.send({ type: 'memory.put', path: '/memories/z.md', text: 'saved after' }, 'putcmd-0001');
  const wsA = await homes.connect(second.url, phoneA);

  expect(await wsA.send(clear, 'clrcmd-0001')).toEqual({ removed: 2 });
  expect(notes(home)).toEqual(['z.md']);
  expect(await wsA.send(clear, 'clrcmd-0001')).toEqual({ removed: 2 });
  expect(notes(home)).toEqual(['z.md']);

  // One more kill -9 and start: sent yet again, the note saved after the crash still stays.
  second.child.kill('SIGKILL');
  await second.exited;
  const third = await homes.start(home, env);
  expect(await (await homes.connect(third.url, phoneA)).send(clear, 'clrcmd-0001')).toEqual({ removed: 2 });
  expect(fs.readFileSync(path.join(home, 'memory', 'z.md'), 'utf8')).toBe('saved after');
}, 120_000);

it('a damaged file of noted commands is said in the log and kept aside, not written over', async () => {
  const { home, tokens } = await homes.home();
  const file = path.join(home, 'store', 'memory-clear.json');
  const damaged = JSON.stringify({
    v: 1,
    commands: [{ device: 'dev_x', id: 'putcmd-0001', op: 'put', path: '/memories/a.md', sha256: 'f', done: 'yes' }],
  });
  fs.writeFileSync(file, damaged);

  const d = await homes.start(home, env);
  const ws = await homes.connect(d.url, tokens[0]);
  await ws.send({ type: 'memory.put', path: '/memories/b.md', text: 'after' }, 'putcmd-0002');

  const aside = fs.readdirSync(path.join(home, 'store')).filter((n) => n.startsWith('memory-clear.json.damaged-'));
  expect(aside).toHaveLength(1);
  expect(fs.readFileSync(path.join(home, 'store', aside[0]), 'utf8')).toBe(damaged);
  expect(d.output()).toContain(`${file} was damaged (1 of its 1 noted commands could not be read)`);
  expect(d.output()).toContain(`Errand moved it to ${path.join(home, 'store', aside[0])}`);
  expect(d.output()).toContain('may act again');
}, 120_000);
