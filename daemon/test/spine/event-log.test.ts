// The event log hands events to listeners, and writes them to disk, strictly in sequence order,
// even when new events arrive while an earlier batch is still being synced.
import { expect, it } from 'vitest';
import { EventLog } from '../../src/store/event-log.js';
import { scanJournal } from '../../src/store/journal.js';
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
  const scan = scanJournal(dir);
  expect(scan.torn).toBeUndefined();
  expect(scan.damaged).toBeUndefined();
  const onDisk = scan.records.flatMap((r) => r.events.map((e) => e.seq));
  expect(onDisk).toEqual(seqs);
  const reopened = await EventLog.open(dir);
  expect(reopened.since(0)!.map((e) => e.seq)).toEqual(seqs);
  await reopened.close();
});
