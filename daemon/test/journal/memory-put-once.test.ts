// A phone's memory.put, instructions.put and memory.delete change files the journal does not hold,
// then the journal record with the reply is appended. A kill -9 in that append kept the change and
// lost the reply: the person saw the change and changed it again (acknowledged), then the phone's
// outbox sent the first command again and it ran again: a deleted note came back, older
// instructions went over newer ones, a note made again was deleted. Now each such command is noted
// before it acts, and sent again it answers without acting: here across real kill -9s of `errand start`.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { MemoryEntry } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { Homes } from './helpers.js';

const homes = new Homes();
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => homes.cleanup());

const env = { ANTHROPIC_API_KEY: 'sk-test-key' };
type Cmd = Parameters<WsTestClient['send']>[0];

/** Sends `cmd` as `id` to a daemon that dies appending its record: the change is made, the reply lost. */
async function crashedOn(home: string, token: string, cmd: Cmd, id: string): Promise<void> {
  const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: `mid-append:${id}` });
  const ws = await homes.connect(first.url, token);
  ws.sendRaw(JSON.stringify({ ...cmd, id }));
  expect((await first.exited).signal).toBe('SIGKILL');
}

/** The daemon started again, and a kill -9 to stop it (nothing written by a clean stop). */
async function restarted(home: string, token: string) {
  const d = await homes.start(home, env);
  const ws = await homes.connect(d.url, token);
  const kill = async () => {
    d.child.kill('SIGKILL');
    await d.exited;
  };
  return { ws, kill };
}

const listed = async (ws: WsTestClient) =>
  (await ws.send<{ entries: MemoryEntry[] }>({ type: 'memory.list' })).entries.map((e) => e.path);

it('memory.put cut off by kill -9, the note deleted after, then the put sent again: the note stays deleted', async () => {
  const { home, tokens } = await homes.home();
  const put = { type: 'memory.put', path: '/memories/a.md', text: 'first' } as const;
  await crashedOn(home, tokens[0], put, 'putcmd-0001');
  const note = path.join(home, 'memory', 'a.md');
  expect(fs.readFileSync(note, 'utf8')).toBe('first'); // the change was made, its reply lost

  const second = await restarted(home, tokens[0]);
  expect(await listed(second.ws)).toEqual(['/memories/a.md']);
  await second.ws.send({ type: 'memory.delete', path: '/memories/a.md' }, 'delcmd-0001');

  // The outbox sends the unanswered put again: answered as the first run would have been, nothing written.
  const again = await second.ws.send<{ entry: MemoryEntry }>(put, 'putcmd-0001');
  expect(again.entry).toMatchObject({ path: '/memories/a.md', bytes: 5, writtenBy: { kind: 'device' } });
  expect(await listed(second.ws)).toEqual([]);

  // One more kill -9 and start: sent yet again, it still does not come back.
  await second.kill();
  const third = await restarted(home, tokens[0]);
  expect((await third.ws.send<{ entry: MemoryEntry }>(put, 'putcmd-0001')).entry.path).toBe('/memories/a.md');
  expect(await listed(third.ws)).toEqual([]);
  expect(fs.existsSync(note)).toBe(false);
}, 120_000);

it('instructions.put cut off by kill -9, newer instructions saved after, then the first sent again: the newer stay', async () => {
  const { home, tokens } = await homes.home();
  const brief = { type: 'instructions.put', text: 'be brief' } as const;
  await crashedOn(home, tokens[0], brief, 'putcmd-0001');

  const { ws } = await restarted(home, tokens[0]);
  expect(await ws.send({ type: 'instructions.get' })).toEqual({ text: 'be brief' });
  await ws.send({ type: 'instructions.put', text: 'be detailed' }, 'putcmd-0002');

  expect(await ws.send(brief, 'putcmd-0001')).toEqual({ text: 'be brief' });
  expect(await ws.send({ type: 'instructions.get' })).toEqual({ text: 'be detailed' });
}, 120_000);

it('memory.delete cut off by kill -9, the note made again after, then the delete sent again: the new note stays', async () => {
  const { home, tokens } = await homes.home();
  fs.mkdirSync(path.join(home, 'memory'), { mode: 0o700 });
  fs.writeFileSync(path.join(home, 'memory', 'a.md'), 'old');
  const del = { type: 'memory.delete', path: '/memories/a.md' } as const;
  await crashedOn(home, tokens[0], del, 'delcmd-0001');

  const { ws } = await restarted(home, tokens[0]);
  expect(await listed(ws)).toEqual([]);
  await ws.send({ type: 'memory.put', path: '/memories/a.md', text: 'new' }, 'putcmd-0001');

  expect(await ws.send(del, 'delcmd-0001')).toEqual({});
  expect((await ws.send<{ text: string }>({ type: 'memory.get', path: '/memories/a.md' })).text).toBe('new');
}, 120_000);
