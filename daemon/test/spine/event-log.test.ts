// The event log hands events to listeners, and writes them to disk, strictly in sequence order,
// even when new events arrive while an earlier batch is still being synced.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { EventLog } from '../../src/store/event-log.js';
import { tempHome } from '../helpers/daemon.js';

it('keeps sequence order across overlapping batches, in listeners and on disk', async () => {
  const dir = tempHome();
  const log = await EventLog.open(dir);
  const seen: number[] = [];
  log.subscribe((e) => seen.push(e.seq));
  const pending: Promise<number>[] = [];
  for (let burst = 0; burst < 30; burst++) {
    for (let i = 0; i < 10; i++)
      pending.push(log.append({ kind: 'notice', level: 'info', text: `${burst}.${i}`, at: 0 }));
    // Let the previous batch start its write and sync before the next burst arrives.
    await new Promise((r) => setImmediate(r));
  }
  const seqs = await Promise.all(pending);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  expect(seen).toEqual(seqs);
  await log.close();
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
  const onDisk = fs
    .readFileSync(path.join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
  expect(onDisk).toEqual(seqs);
  const reopened = await EventLog.open(dir);
  expect(reopened.since(0)!.map((e) => e.seq)).toEqual(seqs);
  await reopened.close();
});
