// A home restored from a backup numbers its new events as the ones a phone saw after the backup was
// taken. The phone resumes with its last number and that event's time (`lastAt`): the host, whose
// event of that number has another time, sends a snapshot, and the phone's list equals the store's
// (it used to be replayed from that number, keeping a thread the store does not have and an old
// name). A phone whose last event is the host's own is still replayed. Real daemon processes; the
// backup is a copy of store/ taken while the daemon was stopped.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ServerFrame, type ThreadSummary } from '../../../shared/src/index.js';
import { isEndedTaskState } from '../../../shared/src/task-states.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { Homes, type Proc } from '../journal/helpers.js';

const homes = new Homes();
afterEach(() => homes.cleanup());

async function stop(d: Proc): Promise<void> {
  d.child.kill('SIGTERM');
  await d.exited;
}

/** Resumes as a phone would, with `lastAt` when given; every frame up to `synced`. */
async function resume(url: string, token: string, lastSeq: number, lastAt?: number): Promise<ServerFrame[]> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { origin: url });
  let timer: NodeJS.Timeout | undefined;
  try {
    const frames: ServerFrame[] = [];
    const synced = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const f = ServerFrame.parse(JSON.parse(data.toString()));
        frames.push(f);
        if (f.type === 'synced') resolve();
      });
      ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
      timer = setTimeout(() => reject(new Error('no synced within 10 s')), 10_000);
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'auth', token, lastSeq, ...(lastAt !== undefined && { lastAt }) }));
    await synced;
    return frames;
  } finally {
    clearTimeout(timer);
    ws.terminate();
  }
}

const shown = (threads: ThreadSummary[]) => threads.map((t) => `${t.id} ${t.title}`).sort();
const eventFrames = (frames: ServerFrame[]) =>
  frames.filter((f): f is Extract<ServerFrame, { type: 'event' }> => f.type === 'event');

it('a phone ahead of the restored backup gets a snapshot equal to the store; one in step is replayed', async () => {
  const { home, tokens } = await homes.home(['Phone', 'Desk']);
  const [phoneToken, deskToken] = tokens;
  const store = path.join(home, 'store');
  const backup = path.join(home, 'store-backup');

  let d = await homes.start(home);
  let desk: WsTestClient = await homes.connect(d.url, deskToken);
  const first = await desk.send<{ thread: ThreadSummary }>({ type: 'thread.create', text: 'first' });
  desk.close();
  await stop(d);
  fs.cpSync(store, backup, { recursive: true });

  // After the backup: the phone sees a new thread and a rename.
  d = await homes.start(home);
  const phone = await homes.connect(d.url, phoneToken, 0);
  desk = await homes.connect(d.url, deskToken);
  await desk.send({ type: 'thread.create', text: 'made after the backup' });
  await desk.send({ type: 'thread.rename', threadId: first.thread.id, title: 'renamed after the backup' });
  await phone.event('thread.updated', (e) => e.thread.title === 'renamed after the backup');
  const seen = phone.events().at(-1)!;
  phone.close();
  desk.close();
  await stop(d);

  // The store is restored; the host goes on, past the number the phone saw, while the phone is away.
  fs.rmSync(store, { recursive: true });
  fs.cpSync(backup, store, { recursive: true });
  d = await homes.start(home);
  desk = await homes.connect(d.url, deskToken);
  for (let i = 0; i < 40 && desk.lastSeq() <= seen.seq + 2; i++)
    await desk.send({ type: 'thread.create', text: `new after the restore ${i}` });
  expect(desk.lastSeq()).toBeGreaterThan(seen.seq);
  // Once their tasks ended, a last change whose event the desk gets: every record before it is
  // written, so the host's newest event is one it can name the time of.
  const list = () => desk.send<ThreadSummary[]>({ type: 'threads.list', includeArchived: true });
  await expect
    .poll(async () => (await list()).every((t) => !t.lastTaskState || isEndedTaskState(t.lastTaskState)))
    .toBe(true);
  await desk.send({ type: 'thread.rename', threadId: first.thread.id, title: 'renamed after the restore' });
  await desk.event('thread.updated', (e) => e.thread.title === 'renamed after the restore');
  const truth = await list();

  const frames = await resume(d.url, phoneToken, seen.seq, seen.at);
  const snapshot = frames.find((f) => f.type === 'snapshot');
  expect(snapshot, 'a snapshot instead of a replay').toBeDefined();
  if (snapshot?.type !== 'snapshot') return;
  expect(shown(snapshot.threads)).toEqual(shown(truth));
  expect(shown(snapshot.threads).some((t) => t.endsWith('after the backup'))).toBe(false);
  expect(eventFrames(frames).filter((f) => f.seq <= snapshot.seq)).toEqual([]);
  expect(frames.find((f) => f.type === 'synced')).toMatchObject({ seq: snapshot.seq });
  // It names the time of its last event: the phone's lastAt for its next resume.
  expect(snapshot.at).toBe(desk.events().find((e) => e.seq === snapshot.seq)!.at);

  // A phone whose last event is this host's own is replayed from it, as before.
  const mid = desk.events()[1];
  const replayed = await resume(d.url, phoneToken, mid.seq, mid.at);
  expect(replayed.some((f) => f.type === 'snapshot')).toBe(false);
  const seqs = eventFrames(replayed).map((f) => f.seq);
  expect(seqs[0]).toBe(mid.seq + 1);
  expect(seqs).toEqual(seqs.map((_, i) => mid.seq + 1 + i));
  expect(replayed.find((f) => f.type === 'synced')).toMatchObject({ seq: seqs.at(-1) });

  // An older client, without lastAt, is trusted with its number (replayed as before).
  const old = await resume(d.url, phoneToken, seen.seq);
  expect(old.some((f) => f.type === 'snapshot')).toBe(false);
}, 120_000);
