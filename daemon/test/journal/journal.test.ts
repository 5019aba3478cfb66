// The journal itself, on real files: one record per transaction, events published only once their
// record is on disk, group commit, order kept across transactions, torn tails, and thread deltas
// that rebuild exactly the thread they describe.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { EventLog } from '../../src/store/event-log.js';
import { openStore } from '../../src/store/index.js';
import { Journal, scanJournal } from '../../src/store/journal.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-journal-unit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const notice = (text: string) => ({ kind: 'notice' as const, level: 'info' as const, text, at: 0 });

it('a transaction is one record; its events reach listeners only after the record is on disk', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  const events = new EventLog(journal);
  await journal.load();
  const seenOnDisk: boolean[] = [];
  events.subscribe((e) => {
    seenOnDisk.push(scanJournal(dir).records.some((r) => r.events.some((x) => x.seq === e.seq)));
  });
  await journal.transaction(async () => {
    await journal.record({ t: 'test', d: { a: 1 } });
    expect(await events.append(notice('one'))).toBe(0); // leaves with the record
    await journal.record({ t: 'test', d: { b: 2 } });
    await events.append(notice('two'));
    expect(seenOnDisk).toEqual([]); // nothing published while the transaction runs
  });
  expect(seenOnDisk).toEqual([true, true]);
  const recs = scanJournal(dir).records;
  expect(recs).toHaveLength(1);
  expect(recs[0].ops.map((o) => o.d)).toEqual([{ a: 1 }, { b: 2 }]);
  expect(recs[0].events.map((e) => e.seq)).toEqual([1, 2]);
  await journal.close();
});

it('group commit: appends of one tick share a write; numbers are gapless and in file order', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  const events = new EventLog(journal);
  await journal.load();
  const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => events.append(notice(String(i)))));
  expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  const recs = scanJournal(dir).records;
  expect(recs.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  await journal.close();
});

it('a batch of records with multi-byte text is written whole: each record reads back exactly, after a reopen too', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  const events = new EventLog(journal);
  await journal.load();
  // One tick: one batch, encoded into one buffer; lengths are bytes, not characters.
  const texts = ['plain', 'caf\u00e9 \u2026 \u{1F600}', 'x'.repeat(5000), '\u00e9'.repeat(3000), '\u4e2d\u6587'];
  await Promise.all(texts.map((t) => events.append(notice(t))));
  await journal.close();
  const recs = scanJournal(dir).records;
  expect(recs.map((r) => (r.events[0].event as { text: string }).text)).toEqual(texts);
  const again = await Journal.open(dir);
  await again.load();
  await new EventLog(again).append(notice('after'));
  await again.close();
  expect(scanJournal(dir).records.map((r) => (r.events[0].event as { text: string }).text)).toEqual([
    ...texts,
    'after',
  ]);
});

it('records larger than the kept encoding buffer are written whole, byte for byte JSON.stringify of the record', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  const events = new EventLog(journal);
  await journal.load();
  const big = { output: 'line of tool output \u2026\n'.repeat(20_000), when: new Date(0), skip: undefined };
  await journal.transaction(async () => {
    await journal.record({ t: 'test', d: big });
    await events.append(notice('x'.repeat(100_000)));
  });
  await Promise.all([events.append(notice('small one')), journal.record({ t: 'test', d: { after: [1, undefined] } })]);
  await journal.close();
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.wal')) as string;
  const bytes = fs.readFileSync(path.join(dir, file));
  const recs = scanJournal(dir).records;
  expect(recs).toHaveLength(3);
  let off = 0;
  for (const rec of recs) {
    const len = bytes.readUInt32LE(off);
    const { n, at, ops, events: evs } = rec;
    expect(bytes.subarray(off + 8, off + 8 + len).toString('utf8')).toBe(JSON.stringify({ n, at, ops, events: evs }));
    off += 8 + len;
  }
  expect(off).toBe(bytes.length);
  expect((recs[0].ops[0].d as { output: string }).output).toBe(big.output);
});

it('a write outside a transaction to a thread an open transaction changed is recorded after it', async () => {
  const home = tmp();
  const store = await openStore(homePaths(home));
  const doc = await store.threads.create('t', () => undefined);
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const tx = store.journal.transaction(async () => {
    await store.threads.update(doc.meta.id, (d) => {
      d.meta.title = 'by the command';
    });
    await gate;
  });
  // A run's write to the same thread, while the command is still open.
  const outside = store.threads.update(doc.meta.id, (d) => {
    d.meta.title = 'by the run, later';
  });
  release();
  await Promise.all([tx, outside]);
  await store.close();
  const reopened = await openStore(homePaths(home));
  expect(reopened.threads.summary(doc.meta.id)?.title).toBe('by the run, later');
  await reopened.close();
});

it('thread deltas rebuild the thread exactly: appends, replacements, removals, reorders, conversation cuts', async () => {
  const home = tmp();
  const store = await openStore(homePaths(home));
  const doc = await store.threads.create('deltas', () => undefined);
  const id = doc.meta.id;
  const item = (n: number, text = `m${n}`) => ({ kind: 'user' as const, id: `i${n}`, taskId: 't', text, createdAt: n });
  let rnd = 7;
  const next = () => {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    return rnd;
  };
  for (let step = 0; step < 300; step++) {
    await store.threads.update(id, (d) => {
      const a = d.agent as { v?: number; messages?: unknown[]; tasks?: Record<string, unknown> };
      a.messages ??= [];
      a.tasks ??= {};
      switch (next() % 7) {
        case 0:
          d.items.push(item(step));
          break;
        case 1:
          if (d.items.length) d.items[next() % d.items.length] = item(step, `replaced ${step}`);
          break;
        case 2:
          if (d.items.length) d.items.splice(next() % d.items.length, 1);
          break;
        case 3:
          d.items.reverse();
          break;
        case 4:
          a.messages.push({ role: 'user', content: [{ type: 'text', text: `say ${step}` }] });
          break;
        case 5:
          a.messages.splice(next() % (a.messages.length + 1));
          break;
        default: {
          const last = a.messages.at(-1) as { content: Array<{ text: string }> } | undefined;
          if (last) last.content[0].text += ' (changed in place)';
          a.tasks[`t${next() % 5}`] = { started: step % 2 === 0, step };
          d.meta.title = `title ${step}`;
        }
      }
    });
  }
  const expected = JSON.parse(JSON.stringify(await store.threads.load(id)));
  await store.journal.settle();
  // Load from the records alone (no snapshot): kill the store without closing it.
  const copy = tmp();
  fs.cpSync(home, copy, { recursive: true });
  await store.close();
  const reopened = await openStore(homePaths(copy));
  expect(JSON.parse(JSON.stringify(await reopened.threads.load(id)))).toEqual(expected);
  await reopened.close();
});

it('a torn tail is cut, its bytes kept aside, and a notice says so', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  const events = new EventLog(journal);
  await journal.load();
  await events.append(notice('kept'));
  await journal.close(false);
  const seg = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.wal'))!);
  const whole = fs.statSync(seg).size;
  fs.appendFileSync(seg, Buffer.from([50, 0, 0, 0, 1, 2, 3, 4, 123, 34]));
  const again = await Journal.open(dir);
  await again.load();
  expect(fs.statSync(seg).size).toBe(whole);
  const torn = fs.readdirSync(dir).filter((f) => f.startsWith('torn-'));
  expect(torn).toHaveLength(1);
  expect(fs.readFileSync(path.join(dir, torn[0]))).toEqual(Buffer.from([50, 0, 0, 0, 1, 2, 3, 4, 123, 34]));
  expect(again.notices.join(' ')).toMatch(/cut off by a crash/);
  expect(again.lastSeq).toBe(1);
  await again.close();
});

it('after a restart the replay window holds the newest events (records the snapshot covers are read only for that)', async () => {
  const dir = tmp();
  const log = await EventLog.open(dir);
  for (let i = 0; i < 25_000; i += 1000)
    await Promise.all(Array.from({ length: 1000 }, (_, j) => log.append(notice(String(i + j)))));
  await log.close(); // writes a snapshot covering every record
  expect(fs.readdirSync(dir).some((f) => f.startsWith('snapshot-'))).toBe(true);
  const reopened = await EventLog.open(dir);
  expect(reopened.lastSeq).toBe(25_000);
  expect(reopened.since(24_900)!.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 24_901 + i));
  expect(reopened.since(6_000)!.length).toBe(19_000); // within the window (20,000 events)
  expect(reopened.since(10)).toBeUndefined(); // beyond it: a snapshot
  expect(await reopened.append(notice('next'))).toBe(25_001);
  await reopened.close();
});

it('records without events do not use up the replay window after a restart (they are not parsed for it)', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  journal.register('bulk', { apply: () => undefined, snapshot: () => null, restore: () => undefined });
  await journal.load();
  await Promise.all(Array.from({ length: 50 }, (_, i) => journal.event(notice(`early ${i}`))));
  // 40 MB of records with no events (more than the window's 32 MB) after them.
  const big = 'x'.repeat(1024 * 1024);
  for (let i = 0; i < 40; i++) await journal.append([{ t: 'bulk', d: big }], []);
  await journal.event(notice('late'));
  await journal.close(); // a snapshot covering every record
  const again = await Journal.open(dir);
  again.register('bulk', { apply: () => undefined, snapshot: () => null, restore: () => undefined });
  const reopened = new EventLog(again);
  await again.load((r) => reopened.replayed(r));
  await reopened.ready(); // the covered records are read just after start-up
  expect(reopened.since(0)!.map((e) => (e.event as { text: string }).text)).toEqual([
    ...Array.from({ length: 50 }, (_, i) => `early ${i}`),
    'late',
  ]);
  await again.close(false);
});

it('an event is recorded and sent as it was when published, serialized once', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  const events = new EventLog(journal);
  await journal.load();
  const frames: string[] = [];
  events.subscribe((_e, frame) => frames.push(frame));
  const e = notice('as published');
  await journal.transaction(async () => {
    await events.append(e);
    e.text = 'changed after publishing';
  });
  const rec = scanJournal(dir).records.at(-1)!;
  expect(rec.events.map((x) => (x.event as { text?: string }).text)).toEqual(['as published']);
  expect(frames).toHaveLength(1);
  expect(JSON.parse(frames[0]).event.text).toBe('as published');
  await journal.close();
});

it('each transaction keeps its own context across awaits while others open and close, and work it leaves behind is in none', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  await journal.load();
  // Work a transaction starts and leaves behind, resumed only once a later transaction is open.
  let resume!: () => void;
  const gate = new Promise<void>((r) => {
    resume = r;
  });
  let seenLate: unknown = 'not run';
  let leftBehind: Promise<void> | undefined;
  await journal.transaction(async () => {
    leftBehind = gate.then(() => {
      seenLate = journal.current();
    });
    await journal.record({ t: 'test', d: { first: true } });
  });
  expect(journal.current()).toBeUndefined();
  expect(journal.detached(() => journal.current())).toBeUndefined();
  await journal.transaction(async (tx) => {
    expect(journal.current()).toBe(tx);
    expect(journal.detached(() => journal.current())).toBeUndefined();
    resume();
    await leftBehind;
    expect(journal.current()).toBe(tx);
  });
  expect(seenLate).toBeUndefined();

  // Many at once, each awaiting at random points: every op lands in its own transaction's record.
  const pause = (i: number) =>
    new Promise<void>((r) => (i % 3 === 0 ? setImmediate(r) : i % 3 === 1 ? setTimeout(r, i % 4) : r()));
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      (async () => {
        await pause(i);
        await journal.transaction(async (tx) => {
          for (let k = 0; k < 3; k++) {
            await pause(i + k);
            expect(journal.current()).toBe(tx);
            await journal.record({ t: 'test', d: { i, k } });
          }
        });
      })(),
    ),
  );
  const recs = scanJournal(dir).records.filter((r) => r.ops.some((o) => (o.d as { i?: number }).i !== undefined));
  expect(recs).toHaveLength(30);
  for (const r of recs) {
    const ds = r.ops.map((o) => o.d as { i: number; k: number });
    expect(ds.map((d) => d.k)).toEqual([0, 1, 2]);
    expect(new Set(ds.map((d) => d.i)).size).toBe(1);
  }
  await journal.close();
});

it('work a transaction starts after its commit runs once the caller has the result, outside the transaction', async () => {
  const dir = tmp();
  const journal = await Journal.open(dir);
  await journal.load();
  const order: string[] = [];
  let ran!: () => void;
  const started = new Promise<void>((resolve) => {
    ran = resolve;
  });
  const value = await journal.transaction(async () => {
    await journal.record({ t: 'test', d: { a: 1 } });
    journal.afterCommit(() => {
      order.push(`work (in a transaction: ${journal.current() !== undefined})`);
      ran();
    });
    return 'reply';
  });
  // A command's reply is sent here: the work it started (a task's first steps) has not run yet.
  order.push(`caller has ${value}`);
  await started;
  expect(order).toEqual(['caller has reply', 'work (in a transaction: false)']);
  expect(scanJournal(dir).records).toHaveLength(1);
  await journal.close();
});
