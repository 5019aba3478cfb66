// `thread.send` reply time through the WebSocket, against the real daemon in its own process, on a
// home with 1,000 threads x 100 messages and a full command memory (2,000 remembered replies).
// Baseline, interleaved in the same run on the same disk: one fdatasync'd append of a record the
// size of the command's journal record (RECORD_BYTES). Targets: p95 <= 5 ms and <= 2x the baseline's p95.
// Also timed, interleaved, for reference (not a target): the floor, a raw `ws` server in its own
// process that only appends each message and fdatasyncs it before echoing it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { homePaths } from '../../daemon/src/config/paths.js';
import { openStore } from '../../daemon/src/store/index.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';
import { type EchoProcess, startEchoProcess } from './echo-process.js';
import { ms, percentile, report } from './stats.js';

const THREADS = 1000;
const MESSAGES = 100;
const SENDS = 400;
/**
 * Sends before timing: the figure is for a daemon that has been running a while, as a phone meets
 * it (V8 has optimized the command path), on a disk that has settled after the home was written.
 * Over the first few hundred sends both the daemon's and the baseline's p95 were 2-3x their later
 * figures (with 50 warm-up sends: thread.send 4.4-4.7 ms, append 2.4-3.4; with 600: 2.3-3.0 and
 * 0.6-1.4).
 */
const WARMUP = 600;
/**
 * The size of a `thread.send` record in the journal (its thread change, two events and the reply),
 * measured by timing the daemon's flush in this bench: 2,218 bytes (the task's own records that
 * follow are 1,926-2,054). Measure again when what the record holds changes.
 */
const RECORD_BYTES = 2218;
/** The floor's message is padded to the size of the baseline's record. */
const FLOOR_PAD = 'x'.repeat(RECORD_BYTES - 100);

async function prepareHome(home: string): Promise<{ token: string; threadIds: string[] }> {
  const store = await openStore(homePaths(home));
  const { device, token } = await store.devices.add('bench phone', undefined);
  const threadIds: string[] = [];
  for (let t = 0; t < THREADS; t++) {
    const doc = await store.threads.create(`Thread ${t}`, (d) => {
      for (let m = 0; m < MESSAGES; m++) {
        d.items.push({
          kind: m % 2 ? 'assistant' : 'user',
          id: `i${m}`,
          taskId: 'task',
          text: `Message ${m}: ${'lorem ipsum dolor sit amet '.repeat(8)}`,
          createdAt: Date.now(),
        });
      }
    });
    threadIds.push(doc.meta.id);
  }
  // A full command memory for this device.
  for (let i = 0; i < 2000; i++)
    store.commands.adopt(device.id, `old-command-${i}`, { ok: true, result: { thread: store.threads.list()[0] } });
  await store.close(); // a snapshot: the daemon starts from it
  return { token, threadIds };
}

export async function benchThreadSend(): Promise<boolean> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-send-'));
  const rawDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-append-'));
  let daemon: DaemonProcess | undefined;
  let floor: EchoProcess | undefined;
  try {
    process.stdout.write(`preparing ${THREADS} threads x ${MESSAGES} messages and a full command memory…\n`);
    const { token, threadIds } = await prepareHome(home);
    [daemon, floor] = await Promise.all([startDaemonProcess(home), startEchoProcess(path.join(rawDir, 'floor.wal'))]);
    const floorWs = new WebSocket(`ws://127.0.0.1:${floor.port}`);
    await new Promise((r) => floorWs.once('open', r));
    // A floor server that stopped (its fdatasync failed) ends the run instead of leaving it waiting.
    let floorDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
    floorWs.on('message', () => floorDone?.resolve());
    floorWs.on('close', () => floorDone?.reject(new Error('the floor server closed its connection')));
    const floorTrip = (id: string, threadId: string, text: string) =>
      new Promise<void>((resolve, reject) => {
        floorDone = { resolve, reject };
        floorWs.send(JSON.stringify({ type: 'thread.send', id, threadId, text, pad: FLOOR_PAD }));
      });
    const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/ws`);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token }));
    await new Promise((r) => ws.once('message', r));
    const replies = new Map<string, (taskId?: string) => void>();
    const ended = new Map<string, () => void>();
    const endedEarly = new Set<string>();
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as {
        type: string;
        id?: string;
        result?: { task?: { id: string } };
        event?: { kind: string; task?: { id: string; state: string } };
      };
      if ((f.type === 'reply' || f.type === 'error') && f.id) replies.get(f.id)?.(f.result?.task?.id);
      const t = f.event?.kind === 'task.updated' ? f.event.task : undefined;
      if (t && !['queued', 'running', 'waiting'].includes(t.state)) {
        const done = ended.get(t.id);
        if (done) done();
        else endedEarly.add(t.id);
      }
    });

    // The baseline: a record-sized append + fdatasync to a file on the same disk, no store code.
    const fd = fs.openSync(path.join(rawDir, 'append.wal'), 'a');
    const record = Buffer.alloc(RECORD_BYTES, 'x');
    const appendOnce = () =>
      new Promise<void>((resolve, reject) =>
        fs.write(fd, record, (err) => (err ? reject(err) : fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())))),
      );

    const send: number[] = [];
    const base: number[] = [];
    const floorTimes: number[] = [];
    for (let i = 0; i < SENDS + WARMUP; i++) {
      const id = `bench-send-${i.toString().padStart(6, '0')}`;
      const threadId = threadIds[(i * 7919) % threadIds.length];
      const t0 = performance.now();
      const taskId = await new Promise<string | undefined>((resolve) => {
        replies.set(id, resolve);
        ws.send(JSON.stringify({ type: 'thread.send', id, threadId, text: `Bench message ${i}` }));
      });
      const t1 = performance.now();
      replies.delete(id);
      // The message starts a task, which fails at once (no API key): wait until it has ended, as a
      // person's next message comes after the last one was handled.
      if (taskId && !endedEarly.delete(taskId))
        await new Promise<void>((resolve) => ended.set(taskId, () => (ended.delete(taskId), resolve())));
      const t2 = performance.now();
      await floorTrip(id, threadId, `Bench message ${i}`);
      const t3 = performance.now();
      await appendOnce();
      const t4 = performance.now();
      if (i >= WARMUP) {
        send.push(t1 - t0);
        floorTimes.push(t3 - t2);
        base.push(t4 - t3);
      }
    }
    fs.closeSync(fd);
    ws.close();
    floorDone = undefined;
    floorWs.close();
    const ps = percentile(send, 95);
    const pb = percentile(base, 95);
    const pf = percentile(floorTimes, 95);
    console.log(
      `thread.send reply: p95 ${ms(ps)} (median ${ms(percentile(send, 50))}); one fdatasync'd append: p95 ${ms(pb)} (median ${ms(percentile(base, 50))})`,
    );
    console.log(
      `for reference, the floor (raw ws echo made durable first): p95 ${ms(pf)} (median ${ms(percentile(floorTimes, 50))}), ${(pf / pb).toFixed(2)}x the append; thread.send is ${(ps / pf).toFixed(2)}x the floor`,
    );
    const a = report('thread.send reply p95', ms(ps), ps <= 5, '<= 5 ms');
    const b = report('thread.send p95 vs one durable append', `${(ps / pb).toFixed(2)}x`, ps <= pb * 2, '<= 2x');
    return a && b;
  } finally {
    await Promise.all([daemon?.stop(), floor?.stop()]);
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(rawDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchThreadSend()) ? 0 : 1;
