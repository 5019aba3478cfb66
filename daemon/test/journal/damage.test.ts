import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { homePaths } from '../../src/config/paths.js';
import { DiskFullAtStartError, journalDir, openStore } from '../../src/store/index.js';
import { listSegments, scanJournal } from '../../src/store/journal.js';
import { ensureBuilt } from '../agent/build.js';
import { runErrand } from '../helpers/cli.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { canMountSmallDisk, fill, smallDisk } from '../helpers/small-disk.js';
import { Homes } from './helpers.js';

const homes = new Homes();
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => homes.cleanup());

type Created = { thread: ThreadSummary; task: { id: string } };

it('a damaged middle record refuses start naming file and offset; doctor explains; repair cuts it, keeps a copy, counts dropped events, never reuses a number', async () => {
  const { home, tokens } = await homes.home();
  const first = await homes.start(home);
  const ws = await homes.connect(first.url, tokens[0], 0);
  const made = await ws.send<Created>({ type: 'thread.create', text: 'keep me' });
  for (let i = 0; i < 5; i++) await ws.send({ type: 'thread.rename', threadId: made.thread.id, title: `title ${i}` });
  const seenSeq = ws.lastSeq();
  first.child.kill('SIGKILL');
  await first.exited;

  // Flip a byte inside the payload of a record in the middle: the one that renamed to "title 2".
  const wal = path.join(home, 'store', 'wal');
  expect(listSegments(wal)).toHaveLength(1);
  const seg = path.join(wal, listSegments(wal)[0]);
  const before = scanJournal(wal).records;
  const titleOf = (r: (typeof before)[number]) =>
    r.ops.flatMap((o) => {
      const meta = (o.d as { meta?: { title: string } }).meta;
      return meta ? [meta.title] : [];
    });
  const victimIndex = before.findIndex((r) => titleOf(r).includes('title 2'));
  expect(victimIndex).toBeGreaterThan(0);
  const buf = fs.readFileSync(seg);
  let off = 0;
  const offsets: number[] = [];
  while (off < buf.length) {
    offsets.push(off);
    off += 8 + buf.readUInt32LE(off);
  }
  expect(offsets).toHaveLength(before.length);
  const victim = offsets[victimIndex];
  buf[victim + 20] ^= 0xff;
  fs.writeFileSync(seg, buf);
  const damaged = fs.readFileSync(seg);
  const after = before.slice(victimIndex + 1);
  const eventsAfter = after.reduce((n, r) => n + r.events.length, 0);

  const env = { ERRAND_HOME: home };
  const refused = await runErrand(['start'], env);
  expect(refused.code).toBe(65);
  expect(refused.stderr).toContain(seg);
  expect(refused.stderr).toContain(`at byte ${victim}`);
  expect(refused.stderr).toContain('errand repair');
  expect(fs.readFileSync(seg).equals(damaged)).toBe(true); // untouched

  const doctor = await runErrand(['doctor', '--json'], env);
  const check = (
    JSON.parse(doctor.stdout) as { checks: Array<{ id: string; status: string; fix?: string }> }
  ).checks.find((c) => c.id === 'journal');
  expect(check).toMatchObject({ status: 'fail' });
  expect(check!.fix).toContain('errand repair');

  const repaired = await runErrand(['repair', '--json'], env);
  expect(repaired.code).toBe(0);
  const r = JSON.parse(repaired.stdout);
  expect(r).toMatchObject({ repaired: true, droppedRecords: after.length, droppedEvents: eventsAfter });
  expect(fs.readFileSync(path.join(r.backup, path.basename(seg))).equals(damaged)).toBe(true);
  expect((await runErrand(['repair', '--check'], env)).code).toBe(0);

  const second = await homes.start(home);
  const again = await homes.connect(second.url, tokens[0], seenSeq);
  const got = await again.send<{ thread: ThreadSummary }>({ type: 'thread.get', threadId: made.thread.id });
  expect(got.thread.title).toBe('title 1'); // the changes before the damaged record
  // The phone saw events that are gone: it gets a snapshot, and new events are numbered above them.
  expect(again.frames.some((f) => f.type === 'snapshot')).toBe(true);
  await again.send({ type: 'thread.rename', threadId: made.thread.id, title: 'after repair' });
  const next = await again.event('thread.updated', (e) => e.thread.title === 'after repair');
  const seq = again.events().find((e) => e.event === next)!.seq;
  expect(seq).toBeGreaterThan(seenSeq);
}, 90_000);

it('a full disk: the command fails with unavailable "disk full at <path>", nothing is acknowledged, the daemon stays up and recovers', async () => {
  const { home, tokens } = await homes.home();
  const flag = path.join(home, 'disk-is-full');
  const d = await homes.start(home, { ERRAND_TEST_DISK_FULL: flag });
  const ws = await homes.connect(d.url, tokens[0], 0);
  const ok = await ws.send<Created>({ type: 'thread.create', text: 'before' });
  fs.writeFileSync(flag, '');
  const err = await ws.send({ type: 'thread.create', text: 'on a full disk' }, 'full-disk-cmd-1').then(
    () => undefined,
    (e: Error & { code: string }) => e,
  );
  expect(err?.code).toBe('unavailable');
  expect(err?.message).toContain(`disk full at ${path.join(home, 'store', 'wal')}`);
  const renameErr = await ws.send({ type: 'thread.rename', threadId: ok.thread.id, title: 'not saved' }).then(
    () => undefined,
    (e: Error & { code: string }) => e,
  );
  expect(renameErr?.code).toBe('unavailable');
  // Still up; memory is what the journal has (the failed changes were undone).
  expect((await fetch(`${d.url}/healthz`)).ok).toBe(true);
  let list = await ws.send<ThreadSummary[]>({ type: 'threads.list' });
  expect(list.map((t) => t.title)).toEqual(['before']);
  expect(ws.events().some((e) => e.event.kind === 'thread.updated' && e.event.thread.title === 'on a full disk')).toBe(
    false,
  );

  fs.rmSync(flag);
  const made = await ws.send<Created>({ type: 'thread.create', text: 'on a full disk' }, 'full-disk-cmd-1');
  list = await ws.send<ThreadSummary[]>({ type: 'threads.list' });
  expect(list.map((t) => t.title).sort()).toEqual(['before', 'on a full disk']);

  d.child.kill('SIGKILL');
  await d.exited;
  const again = await homes.start(home);
  const c = await homes.connect(again.url, tokens[0]);
  list = await c.send<ThreadSummary[]>({ type: 'threads.list' });
  expect(list.map((t) => [t.title, t.id]).sort()).toEqual(
    [
      ['before', ok.thread.id],
      ['on a full disk', made.thread.id],
    ].sort(),
  );
}, 90_000);

/** What a start that must save first says on a full disk (store/index.ts DiskFullAtStartError). */
const MUST_SAVE_FIRST =
  /^errand start: The disk is full at \S+, and Errand must save something before it can start \(.*tasks to mark interrupted or to resume\), so it did not start\. Free some space, then start it again\.$/m;

it.runIf(canMountSmallDisk)(
  'a really full disk (small tmpfs): commands fail with unavailable and the daemon stays up; a start that owes nothing starts and warns; one that must save first (a task a stop cut off to resume, a task a crash cut off to mark) exits 74 saying so',
  async () => {
    const mnt = smallDisk()!;
    let model: ModelServer | undefined;
    try {
      const home = path.join(mnt.dir, 'home');
      fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
      const { DeviceStore } = await import('../../src/store/devices.js');
      const { token } = await (await DeviceStore.open(path.join(home, 'store'))).add('Phone', undefined);
      const d = await homes.start(home, { ERRAND_LOG_LEVEL: 'error' });
      const ws = await homes.connect(d.url, token, 0);
      const before = await ws.send<Created>({ type: 'thread.create', text: 'before' });
      const filler = path.join(mnt.dir, 'filler');
      const free = fill(filler);
      const err = await ws.send({ type: 'thread.create', text: 'x'.repeat(20_000) }, 'tmpfs-full-cmd').then(
        () => undefined,
        (e: Error & { code: string }) => e,
      );
      expect(err?.code).toBe('unavailable');
      expect(err?.message).toContain('disk full at');
      expect((await fetch(`${d.url}/healthz`)).ok).toBe(true);
      free();
      const made = await ws.send<Created>({ type: 'thread.create', text: 'x'.repeat(20_000) }, 'tmpfs-full-cmd');
      expect(made.thread.id).toMatch(/^thr_/);
      // With no API key each task fails at once. The stop comes after both ended, so it cuts off
      // none: a stop that cut one off leaves it to resume, and that start owes the disk a record (below).
      for (const { task } of [before, made])
        await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'failed');
      d.child.kill('SIGTERM');
      expect((await d.exited).code).toBe(0);

      // A start on this home (stopped cleanly, nothing left to mark or resume) with the disk full
      // starts and warns: nothing is owed to the disk until new work comes (README;
      // cli/full-disk-start-lock.test.ts).
      fill(filler);
      const full = await homes.start(home, { ERRAND_LOG_LEVEL: 'error' });
      expect((await fetch(`${full.url}/healthz`)).ok).toBe(true);
      expect(full.output()).toMatch(/warning: the disk is full at/);
      full.child.kill('SIGTERM');
      expect((await full.exited).code).toBe(0);

      // A clean stop cut off a running task: the next start resumes it (agent.autoResume), and must
      // record that before it runs. With the disk full that start exits 74 and says why.
      free();
      model = await startModelServer(() => ({ kind: 'hang' }));
      const modelEnv = {
        ANTHROPIC_BASE_URL: model.url,
        ANTHROPIC_API_KEY: 'sk-test-key',
        ERRAND_MODEL: 'claude-sonnet-4-6',
      };
      const running = await homes.start(home, { ERRAND_LOG_LEVEL: 'error', ...modelEnv });
      const ws2 = await homes.connect(running.url, token, 0);
      await ws2.send<Created>({ type: 'thread.create', text: 'A long job' });
      await model.waitForRequests(1, 15_000);
      running.child.kill('SIGTERM');
      expect((await running.exited).code).toBe(0);
      fill(filler);
      const resuming = await runErrand(['start'], { ERRAND_HOME: home, ERRAND_PORT: '0', ...modelEnv });
      expect({ code: resuming.code, stderr: resuming.stderr }).toEqual({
        code: 74,
        stderr: expect.stringMatching(MUST_SAVE_FIRST),
      });

      // With room it resumes the task; killed while it runs, the next start must record it as
      // interrupted, and the disk is full by then: the same refusal.
      free();
      const resumed = await homes.start(home, { ERRAND_LOG_LEVEL: 'error', ...modelEnv });
      await model.waitForRequests(2, 15_000); // the resumed task asks the model again
      resumed.child.kill('SIGKILL');
      await resumed.exited;
      fill(filler);
      const recovering = await runErrand(['start'], { ERRAND_HOME: home, ERRAND_PORT: '0', ...modelEnv });
      expect({ code: recovering.code, stderr: recovering.stderr }).toEqual({
        code: 74,
        stderr: expect.stringMatching(MUST_SAVE_FIRST),
      });
    } finally {
      await homes.cleanup();
      await model?.close();
      mnt.release();
    }
  },
  60_000,
);

it.runIf(canMountSmallDisk)(
  'opening the store on a full disk writes nothing for a home closed cleanly; a torn journal end to keep refuses with 74 and changes nothing',
  async () => {
    const mnt = smallDisk('8m')!;
    try {
      const paths = homePaths(path.join(mnt.dir, 'home'));
      fs.mkdirSync(paths.home, { mode: 0o700 });
      await (await openStore(paths)).close(); // a new home: its first record, then a snapshot
      const filler = path.join(mnt.dir, 'filler');
      let free = fill(filler);
      const again = await openStore(paths);
      expect(again.journal.notices).toEqual([]);
      free(); // closing writes the device list again
      await again.close();

      // A crash cut the last record: keeping its bytes before the cut needs room.
      const wal = journalDir(paths);
      const seg = path.join(wal, listSegments(wal).at(-1)!);
      fs.appendFileSync(seg, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5]));
      const torn = fs.readFileSync(seg);
      free = fill(filler);
      const refused = await openStore(paths).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(refused).toBeInstanceOf(DiskFullAtStartError);
      expect((refused as DiskFullAtStartError).exitCode).toBe(74);
      expect(fs.readFileSync(seg).equals(torn)).toBe(true);
      free();
      const kept = await openStore(paths);
      expect(kept.journal.notices.join('\n')).toContain('cut off by a crash');
      await kept.close();
    } finally {
      mnt.release();
    }
  },
);
