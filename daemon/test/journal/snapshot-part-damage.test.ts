// A damaged thread inside the newest snapshot: doctor and `errand repair --check` find it (start reads
// only the snapshot's head), the phone is told what is wrong and the fix (not "internal error"), and
// a stop that cannot write its snapshot says so.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { ColdParts } from '../../src/store/cold-parts.js';
import { openStore } from '../../src/store/index.js';
import { listSnapshots } from '../../src/store/journal.js';
import { inspectJournal, journalDirOf, repairJournal } from '../../src/store/repair.js';
import {
  findDamagedPart,
  SNAPSHOT_FIX,
  type SnapshotHead,
  SnapshotPartDamagedError,
} from '../../src/store/snapshot-file.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';

let td: TestDaemon | undefined;
const homes: string[] = [];
afterEach(async () => {
  await td?.stop();
  td = undefined;
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

/** Five threads in a snapshot (a clean stop), then one byte flipped inside the middle one's part. */
async function homeWithDamagedPart() {
  const home = tempHome('errand-snapshot-part-');
  homes.push(home);
  const paths = homePaths(home);
  const store = await openStore(paths);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push(
      (
        await store.threads.create(`Thread ${i}`, (d) => {
          d.items.push({ kind: 'user', id: `u${i}`, taskId: `t${i}`, text: `hello ${'y'.repeat(2000)}`, createdAt: i });
        })
      ).meta.id,
    );
  await store.close();
  const wal = journalDirOf(paths);
  const file = path.join(wal, listSnapshots(wal).at(-1)!);
  const buf = fs.readFileSync(file);
  const headEnd = buf.indexOf(10);
  const head = JSON.parse(buf.toString('utf8', 0, headEnd)) as SnapshotHead;
  const index = (head.folds.thread as { index: Array<{ id: string }> }).index;
  const k = index.findIndex((e) => e.id === ids[2]);
  let at = headEnd + 1;
  for (let i = 0; i < k; i++) at += head.partBytes![i] + 1;
  const flipped = at + Math.floor(head.partBytes![k] / 2);
  buf[flipped] ^= 0x01;
  fs.writeFileSync(file, buf);
  return { home, paths, wal, file, ids, partAt: at };
}

it('doctor and repair --check find a damaged thread in the snapshot; repair rebuilds it from the journal, which still holds every record', async () => {
  const { paths, wal, file, ids, partAt } = await homeWithDamagedPart();
  expect(findDamagedPart(file)).toMatchObject({ offset: partAt, part: 3, problem: 'checksum does not match' });
  const health = inspectJournal(wal);
  expect(health.status).toBe('snapshot');
  expect(health.detail).toContain(`${file} is damaged at byte ${partAt}`);
  const repair = await repairJournal(paths);
  expect(repair).toMatchObject({ repaired: true });
  expect(repair.message).toContain(`Removed the damaged snapshot ${path.basename(file)}`);
  const store = await openStore(paths);
  try {
    expect((await store.threads.load(ids[2])).meta.title).toBe('Thread 2');
  } finally {
    await store.close();
  }
});

it('a whole snapshot passes the check', async () => {
  const home = tempHome('errand-snapshot-part-');
  homes.push(home);
  const paths = homePaths(home);
  const store = await openStore(paths);
  for (let i = 0; i < 3; i++) await store.threads.create(`Thread ${i}`, () => undefined);
  await store.close();
  const wal = journalDirOf(paths);
  expect(findDamagedPart(path.join(wal, listSnapshots(wal).at(-1)!))).toBeUndefined();
  expect(inspectJournal(wal).status).toBe('ok');
});

it('opening or sending to the damaged thread is refused as unavailable with the fix; a stop that cannot snapshot says so', async () => {
  const { home, file, ids, partAt } = await homeWithDamagedPart();
  td = await startTestDaemon({ home });
  const ws = await td.connect();
  for (const id of [ids[0], ids[4]]) await expect(ws.send({ type: 'thread.get', threadId: id })).resolves.toBeTruthy();
  const get = ws.send({ type: 'thread.get', threadId: ids[2] });
  await expect(get).rejects.toMatchObject({ code: 'unavailable' });
  await expect(get).rejects.toThrow(`The snapshot ${file} is damaged at byte ${partAt}`);
  await expect(get).rejects.toThrow(SNAPSHOT_FIX);
  const send = ws.send({ type: 'thread.send', threadId: ids[2], text: 'more' });
  await expect(send).rejects.toMatchObject({ code: 'unavailable' });
  await expect(send).rejects.toThrow(SNAPSHOT_FIX);
  // Something changed since the snapshot, so the stop tries to write one: it cannot copy the part.
  await ws.send({ type: 'thread.rename', threadId: ids[0], title: 'renamed' });
  const warnings: string[] = [];
  td.daemon.ctx.store.journal.onWarning((t) => warnings.push(t));
  await td.stop();
  td = undefined;
  expect(warnings.join(' ')).toContain('could not write a snapshot');
  expect(warnings.join(' ')).toContain(`${file} is damaged at byte`);
});

it('a snapshot that keeps failing is tried again only after as much more is appended, not at every append', async () => {
  const { paths, file } = await homeWithDamagedPart();
  const compactBytes = 16 * 1024;
  const store = await openStore(paths, { journal: { compactBytes } });
  const warnings: string[] = [];
  store.journal.onWarning((t) => warnings.push(t));
  const wal = journalDirOf(paths);
  const walBytes = () => fs.readdirSync(wal).reduce((n, f) => n + fs.statSync(path.join(wal, f)).size, 0);
  const before = walBytes();
  try {
    for (let i = 0; i < 120; i++) {
      await store.threads.create(`More ${i} ${'z'.repeat(1000)}`, () => undefined);
      // A quiet moment after each change, so that a snapshot started by it runs (and fails).
      await store.journal.compacted();
    }
  } finally {
    await store.close(); // tries once more, and says so
  }
  const appended = walBytes() - before;
  expect(appended).toBeGreaterThan(6 * compactBytes);
  // Still tried and said while running, but about once per compactBytes appended, not once per append.
  expect(warnings.length).toBeGreaterThanOrEqual(3);
  expect(warnings.join(' ')).toContain(`${file} is damaged at byte`);
  expect(warnings.length).toBeLessThanOrEqual(Math.ceil(appended / compactBytes) + 1);
});

it('a thread moved out of memory that cannot be read back says to restart (the journal has it), not to restore', () => {
  const dir = tempHome('errand-snapshot-part-');
  homes.push(dir);
  const cold = new ColdParts(dir);
  try {
    const [part] = cold.putAll([{ text: 'x'.repeat(100) }]);
    const fd = (part as unknown as { source: { fd: number } }).source.fd;
    fs.writeSync(fd, Buffer.from('Z'), 0, 1, part!.start + 10);
    expect(() => part!.read()).toThrow(SnapshotPartDamagedError);
    expect(() => part!.read()).toThrow(/Restart Errand/);
  } finally {
    cold.close();
  }
});
