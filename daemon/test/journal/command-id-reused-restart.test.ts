// What tells a resend from an id reused for a different command is durable: the command's
// fingerprint is in the same journal record as its reply. After kill -9 (the records replayed) and
// after a clean stop (the snapshot loaded), the same command still gets its first reply and a
// different one under its id is still refused. Replies remembered before fingerprints existed keep
// answering any command under their id, as they did.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { CommandLog, ID_REUSED, REPLY_OP } from '../../src/store/commands.js';
import { Journal } from '../../src/store/journal.js';
import { ensureBuilt } from '../agent/build.js';
import { Homes } from './helpers.js';

const homes = new Homes();
const dirs: string[] = [];
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(async () => {
  await homes.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const REUSED = {
  code: 'conflict',
  message: 'This id was already used for a different command; send it with a new id.',
};

it('after kill -9 and after a clean stop, a resend gets the first reply and a different command under the id is refused', async () => {
  const { home, tokens } = await homes.home();
  const first = await homes.start(home);
  const ws = await homes.connect(first.url, tokens[0], 0);
  const made = await ws.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'kept' }, 'reused-id-00001');
  first.child.kill('SIGKILL');
  await first.exited;

  const checks = async (url: string) => {
    const again = await homes.connect(url, tokens[0], 0);
    expect(await again.send({ type: 'thread.create', text: 'kept' }, 'reused-id-00001')).toEqual(made);
    await expect(again.send({ type: 'thread.create', text: 'other' }, 'reused-id-00001')).rejects.toMatchObject(REUSED);
    await expect(
      again.send({ type: 'thread.rename', threadId: made.thread.id, title: 'x' }, 'reused-id-00001'),
    ).rejects.toMatchObject(REUSED);
    const list = await again.send<Array<{ id: string; title: string }>>({ type: 'threads.list' });
    expect(list.map((t) => t.id)).toEqual([made.thread.id]);
    expect(list[0].title).not.toBe('x');
  };
  const second = await homes.start(home); // from the records
  await checks(second.url);
  second.child.kill('SIGTERM'); // a clean stop writes the snapshot
  expect((await second.exited).code).toBe(0);
  const third = await homes.start(home); // from the snapshot
  await checks(third.url);
}, 120_000);

it('a reply remembered without a fingerprint (written before them, or migrated) answers its id as before', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-reply-old-'));
  dirs.push(dir);
  let journal = await Journal.open(dir);
  let commands = new CommandLog(journal);
  await journal.load();
  const old = { ok: true, result: { thread: { id: 'thr_old' } } };
  // The record as an older host wrote it: a reply op with no fingerprint.
  await journal.transaction(
    async () => old,
    (tx, reply) => tx.add({ t: REPLY_OP, d: { device: 'dev_phone', id: 'old-id-000001', ...reply } }),
  );
  const never = async () => {
    throw new Error('a remembered id must not run again');
  };
  const reopen = async (snapshot: boolean) => {
    await journal.close(snapshot);
    journal = await Journal.open(dir);
    commands = new CommandLog(journal);
    await journal.load();
  };
  await reopen(false); // from the records
  expect(await commands.once('dev_phone', 'old-id-000001', never, 'fingerprint-of-anything')).toEqual(old);
  // The migration from the older store adopts replies without one; they reach disk with the next snapshot.
  commands.adopt('dev_phone', 'migrated-id-001', old);
  await reopen(true); // from the snapshot
  expect(await commands.once('dev_phone', 'old-id-000001', never, 'fingerprint-of-anything')).toEqual(old);
  expect(await commands.once('dev_phone', 'migrated-id-001', never, 'any')).toEqual(old);
  // A new reply carries its fingerprint, so the same id with another one is refused.
  const made = await commands.once('dev_phone', 'new-id-0000001', async () => ({ ok: true, result: 1 }), 'fp-a');
  expect(made).toEqual({ ok: true, result: 1 });
  expect(await commands.once('dev_phone', 'new-id-0000001', never, 'fp-b')).toEqual(ID_REUSED);
  expect(await commands.once('dev_phone', 'new-id-0000001', never, 'fp-a')).toEqual(made);
  await journal.close();
});
