// Exactly once across kill -9: a command's effect, events and remembered reply are one journal
// record. The daemon is killed at exact points (half the record written; the record durable but the
// reply not sent; mid-snapshot at stop), started again, and the phone resends the same command id.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { expectContiguous, Homes } from './helpers.js';

const homes = new Homes();
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => homes.cleanup());

type Created = { thread: ThreadSummary; task: { id: string } };

for (const point of ['after-append', 'mid-append'] as const) {
  it(`kill -9 ${point === 'after-append' ? 'after the append, before the reply' : 'in the middle of the append'}: the resent id ${point === 'after-append' ? 'returns the first reply and never runs again' : 'runs once'}; acknowledged changes stay; no sequence gap`, async () => {
    const { home, tokens } = await homes.home();
    const first = await homes.start(home, { ERRAND_TEST_CRASH: `${point}:cmd-crash-0001` });
    const ws = await homes.connect(first.url, tokens[0], 0);
    const acked = await ws.send<Created>(
      { type: 'thread.create', text: 'acknowledged before the crash' },
      'cmd-ok-00001',
    );
    ws.sendRaw(JSON.stringify({ type: 'thread.create', text: 'the crash command', id: 'cmd-crash-0001' }));
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    // Nothing of the crashed command reached the phone: no reply, no event.
    expect(ws.frames.some((f) => 'id' in f && f.id === 'cmd-crash-0001')).toBe(false);
    expect(
      ws.events().some((e) => e.event.kind === 'thread.updated' && e.event.thread.title === 'the crash command'),
    ).toBe(false);

    const second = await homes.start(home);
    const again = await homes.connect(second.url, tokens[0], 0);
    const resent = await again.send<Created>({ type: 'thread.create', text: 'the crash command' }, 'cmd-crash-0001');
    const resentTwice = await again.send<Created>(
      { type: 'thread.create', text: 'the crash command' },
      'cmd-crash-0001',
    );
    expect(resentTwice).toEqual(resent);
    const list = await again.send<ThreadSummary[]>({ type: 'threads.list', includeArchived: true });
    expect(list.filter((t) => t.title === 'the crash command').map((t) => t.id)).toEqual([resent.thread.id]);
    expect(list.some((t) => t.id === acked.thread.id)).toBe(true);
    if (point === 'after-append') {
      // The thread existed before the resend: its creation event was in the replay, before the reply.
      const created = again
        .events()
        .find((e) => e.event.kind === 'thread.updated' && e.event.thread.id === resent.thread.id);
      expect(created).toBeDefined();
      const replyAt = again.frames.findIndex((f) => f.type === 'reply' && f.id === 'cmd-crash-0001');
      expect(again.frames.indexOf(created!)).toBeLessThan(replyAt);
    } else {
      expect(second.output()).toMatch(/cut off by a crash/);
    }
    const seqs = again.events().map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(expectContiguous(seqs)).toBe(true);
  });
}

it('kill -9 in the middle of the snapshot at stop: the next start loads everything and removes the temp file', async () => {
  const { home, tokens } = await homes.home();
  const first = await homes.start(home, { ERRAND_TEST_CRASH: 'mid-snapshot' });
  const ws = await homes.connect(first.url, tokens[0], 0);
  const made = await ws.send<Created>({ type: 'thread.create', text: 'before the snapshot' }, 'cmd-one-0001');
  await ws.send({ type: 'thread.rename', threadId: made.thread.id, title: 'renamed' }, 'cmd-two-0002');
  first.child.kill('SIGTERM');
  expect((await first.exited).signal).toBe('SIGKILL');
  const wal = path.join(home, 'store', 'wal');
  expect(fs.readdirSync(wal).some((f) => f.endsWith('.tmp'))).toBe(true);

  const second = await homes.start(home);
  expect(fs.readdirSync(wal).some((f) => f.endsWith('.tmp'))).toBe(false);
  const again = await homes.connect(second.url, tokens[0], 0);
  const got = await again.send<{ thread: ThreadSummary }>({ type: 'thread.get', threadId: made.thread.id });
  expect(got.thread.title).toBe('renamed');
  expect(
    await again.send({ type: 'thread.rename', threadId: made.thread.id, title: 'renamed' }, 'cmd-two-0002'),
  ).toEqual(expect.objectContaining({ thread: expect.objectContaining({ title: 'renamed' }) }));
  const seqs = again.events().map((e) => e.seq);
  expect(expectContiguous(seqs)).toBe(true);
});

it('replies are remembered per device: 2,100 commands from device B do not evict device A’s replies, also after a restart', async () => {
  const { home, tokens } = await homes.home(['Phone A', 'Phone B']);
  const first = await homes.start(home);
  const a = await homes.connect(first.url, tokens[0]);
  const b = await homes.connect(first.url, tokens[1]);
  const made = await a.send<Created>({ type: 'thread.create', text: 'shared thread' }, 'device-a-0001');
  const renamedByA = await a.send({ type: 'thread.rename', threadId: made.thread.id, title: 'by A' }, 'device-a-0002');
  // B's commands: 2,100 renames, in flights of 50 (group commit takes them together).
  let lastOfB: unknown;
  for (let i = 0; i < 2100; i += 50) {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        b.send(
          { type: 'thread.rename', threadId: made.thread.id, title: `by B ${i + j}` },
          `device-b-${i + j}`,
          30_000,
        ),
      ),
    );
    lastOfB = replies.at(-1);
  }
  // A resends its first two ids: the remembered replies, not a new run (the title stays B's last).
  expect(await a.send({ type: 'thread.rename', threadId: made.thread.id, title: 'by A' }, 'device-a-0002')).toEqual(
    renamedByA,
  );
  const now = await a.send<{ thread: ThreadSummary }>({ type: 'thread.get', threadId: made.thread.id });
  expect(now.thread.title).toBe('by B 2099');
  // B's oldest replies were evicted (2,000 kept): resending b-0 runs it again.
  const bOld = await b.send<{ thread: ThreadSummary }>(
    { type: 'thread.rename', threadId: made.thread.id, title: 'by B again' },
    'device-b-0',
  );
  expect(bOld.thread.title).toBe('by B again');

  first.child.kill('SIGKILL');
  await first.exited;
  const second = await homes.start(home);
  const a2 = await homes.connect(second.url, tokens[0]);
  expect(await a2.send({ type: 'thread.create', text: 'shared thread' }, 'device-a-0001')).toEqual(made);
  expect(await a2.send({ type: 'thread.rename', threadId: made.thread.id, title: 'by A' }, 'device-a-0002')).toEqual(
    renamedByA,
  );
  const b2 = await homes.connect(second.url, tokens[1]);
  const bLast = await b2.send<{ thread: ThreadSummary }>(
    { type: 'thread.rename', threadId: made.thread.id, title: 'by B 2099' },
    'device-b-2099',
  );
  expect(bLast).toEqual(lastOfB);
}, 120_000);
