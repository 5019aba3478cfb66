// Random kill -9 under load: commands in flight from a phone, the daemon killed at a random moment,
// started again, every unanswered command resent with the same id. Every command's effect exists
// exactly once, every acknowledged one survived, and the event numbers have no gap or duplicate.
import fs from 'node:fs';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { expectContiguous, Homes } from './helpers.js';

const homes = new Homes();
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => homes.cleanup());

it('4 random kills under load: every command ran exactly once, acknowledged ones survived, no sequence gap', async () => {
  const { home, tokens } = await homes.home();
  const sent = new Set<string>();
  const acked = new Map<string, string>(); // command id → thread id
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 4; round++) {
    const d = await homes.start(home);
    const ws = await homes.connect(d.url, tokens[0]);
    // Resend what was never answered, then new commands, all in flight together.
    const ids = [...sent].filter((id) => !acked.has(id));
    for (let i = 0; i < 40; i++) ids.push(`round${round}-cmd-${String(i).padStart(3, '0')}`);
    const killAt = 5 + Math.floor(rand() * 60);
    const pending = ids.map((id) => {
      sent.add(id);
      return ws
        .send<{ thread: ThreadSummary }>({ type: 'thread.create', text: `text of ${id}` }, id, 20_000)
        .then((r) => acked.set(id, r.thread.id))
        .catch(() => undefined);
    });
    await new Promise((r) => setTimeout(r, killAt));
    d.child.kill('SIGKILL');
    await d.exited;
    await Promise.all(pending.map((p) => Promise.race([p, new Promise((r) => setTimeout(r, 50))])));
  }
  // Final start: resend everything (answered or not); each id returns its first reply.
  const d = await homes.start(home);
  const ws = await homes.connect(d.url, tokens[0], 0);
  for (const id of sent) {
    const r = await ws.send<{ thread: ThreadSummary }>({ type: 'thread.create', text: `text of ${id}` }, id);
    if (acked.has(id)) expect(r.thread.id).toBe(acked.get(id));
  }
  const list = await ws.send<ThreadSummary[]>({ type: 'threads.list', includeArchived: true });
  const byTitle = new Map<string, number>();
  for (const t of list) byTitle.set(t.title, (byTitle.get(t.title) ?? 0) + 1);
  for (const id of sent) expect(byTitle.get(`text of ${id}`), id).toBe(1);
  expect(list).toHaveLength(sent.size);
  const seqs = ws.events().map((e) => e.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(expectContiguous(seqs)).toBe(true);
}, 120_000);
