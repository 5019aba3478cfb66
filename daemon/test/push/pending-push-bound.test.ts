// push.json keeps at most KEEP_PENDING pushes waiting. Past that a push gives way with a recorded
// `failed` outcome, never silently: first one too old to be sent any more, then one a newer push to the
// same device about the same thread replaces anyway, and only then the oldest. (10 phones and 52 task
// endings against a throttling push service: the first tasks' pushes vanished with no outcome.)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { PushOutcome, Task } from '../../../shared/src/index.js';
import { threadTag, threadUrl } from '../../src/push/payload.js';
import { KEEP_PENDING, type PendingPush, PushStore } from '../../src/push/store.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { doneTask } from './done-task.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

let n = 0;
const pushId = () => `p${(++n).toString().padStart(21, '0')}`;
function pending(deviceId: string, threadId: string, at = Date.now()): PendingPush {
  return {
    pushId: pushId(),
    deviceId,
    endpoint: `https://fcm.googleapis.com/fcm/send/${deviceId}`,
    at,
    job: {
      key: `task:${threadId}`,
      threadId,
      urgency: 'normal',
      ttlSeconds: 86_400,
      payload: {
        type: 'task.done',
        title: 'Done',
        body: 'Finished.',
        threadId,
        url: threadUrl(threadId),
        tag: threadTag(threadId),
      },
    },
  };
}
async function openStore(): Promise<PushStore> {
  const dir = tempHome('errand-pending-bound-');
  dirs.push(dir);
  return PushStore.open(dir);
}
const ids = (list: readonly { pushId?: string }[]) => list.map((p) => p.pushId);

it('over the bound, the oldest give way with a recorded outcome each', async () => {
  const store = await openStore();
  const devices = Array.from({ length: 10 }, (_, i) => `dev_${i}`);
  const all: PendingPush[][] = [];
  const gaveWay: PushOutcome[] = [];
  for (let t = 0; t < 52; t++) {
    const list = devices.map((d) => pending(d, `thr_${t}`));
    all.push(list);
    gaveWay.push(...(await store.addPending(`task:${t}`, list)));
  }
  expect(store.pending()).toHaveLength(KEEP_PENDING);
  expect(ids(gaveWay)).toEqual(ids([...all[0], ...all[1]]));
  expect(gaveWay[0]).toMatchObject({
    deviceId: 'dev_0',
    threadId: 'thr_0',
    kind: 'task.done',
    result: 'failed',
    detail: expect.stringMatching(/^not sent: too many pushes waiting/),
  });
  // Recorded in push.json, where `push.outcomes` and `errand push outcomes` read them.
  expect(ids(store.outcomes('dev_0'))).toEqual(ids([all[0][0], all[1][0]]));
  const reopened = await PushStore.open(dirs[0]);
  expect(ids(reopened.outcomes(undefined, 100))).toEqual(ids(gaveWay));
});

it('one too old to send goes first, then one a newer push about the same thread replaces, before any other', async () => {
  const store = await openStore();
  const stale = pending('dev_a', 'thr_old', Date.now() - 2 * 3600_000);
  const oldest = pending('dev_a', 'thr_x'); // the oldest fresh one, the only push about its thread
  const question = pending('dev_a', 'thr_t'); // replaced on the phone by the newer push below
  const done = pending('dev_a', 'thr_t');
  await store.addPending('k0', [stale, oldest, question, done]);
  for (let i = 0; i < KEEP_PENDING - 4; i++) await store.addPending(`k${i + 1}`, [pending('dev_a', `thr_${i}`)]);
  expect(store.pending()).toHaveLength(KEEP_PENDING);

  const first = await store.addPending('k-next', [pending('dev_a', 'thr_next')]);
  expect(ids(first)).toEqual(ids([stale]));
  expect(first[0].detail).toMatch(/^not sent: it waited too long/);
  const second = await store.addPending('k-next2', [pending('dev_a', 'thr_next2')]);
  expect(ids(second)).toEqual(ids([question]));
  expect(second[0].detail).toMatch(/a newer one about the same thread replaces it/);
  const third = await store.addPending('k-next3', [pending('dev_a', 'thr_next3')]);
  expect(ids(third)).toEqual(ids([oldest]));
  expect(ids(store.pending())).toContain(done.pushId);
});

// ---- through a daemon: the outcome reaches the devices, and the push is not sent later -------------

let svc: FakePushService;
beforeAll(async () => {
  svc = await FakePushService.start();
});
afterAll(async () => {
  await svc.close();
});

it('a throttled burst: the pushes that gave way are reported to their devices and not sent after a restart', async () => {
  const home = tempHome('errand-pending-bound-daemon-');
  dirs.push(home);
  svc.respond = () => ({ status: 429, headers: { 'retry-after': '600' } });
  let td: TestDaemon | undefined = await startTestDaemon({ home, push: { transport: svc.transport() } });
  try {
    const phones: Array<{ ws: WsTestClient; deviceId: string; sub: Subscriber }> = [];
    for (let i = 0; i < 10; i++) {
      const { token, deviceId } = await td.pairDevice(`Phone ${i}`);
      const ws = await td.connect({ token });
      const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/phone-${i}`);
      await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
      phones.push({ ws, deviceId, sub });
    }
    const ctx = td.daemon.ctx;
    const threads: string[] = [];
    for (let t = 0; t < 51; t++) {
      let task: Task | undefined;
      const doc = await ctx.store.threads.create(`Task ${t}`, (d) => {
        task = doneTask({ id: `tsk_bound_${t}`, threadId: d.meta.id });
        d.tasks.push(task);
      });
      threads.push(doc.meta.id);
      await ctx.emit({ kind: 'task.updated', task: task! });
    }
    // The first push to the service is answered 429: it asks for quiet, so the others wait their
    // turn without reaching it; all of them are pending.
    await svc.waitFor(1, 30_000);
    // Each phone is told its first task's push was not sent.
    for (const p of phones) {
      const e = await p.ws.event(
        'push.outcome',
        (ev) => ev.outcome.deviceId === p.deviceId && !!ev.outcome.detail?.startsWith('not sent'),
        10_000,
      );
      expect(e.outcome).toMatchObject({ threadId: threads[0], result: 'failed' });
      expect(e.outcome.detail).toMatch(/too many pushes waiting/);
    }
    await td.stop();
    td = undefined;

    // Started again with the push service answering: every push still pending goes, the first task's not.
    const sent = svc.received.length;
    svc.respond = () => ({ status: 201 });
    td = await startTestDaemon({ home, push: { transport: svc.transport() } });
    await td.daemon.idle();
    const resent = svc.received.slice(sent).map((p) => {
      const phone = phones.find((ph) => p.path.endsWith(`/phone-${phones.indexOf(ph)}`))!;
      return decryptPush(p, phone.sub).threadId;
    });
    expect(resent).toHaveLength(KEEP_PENDING);
    expect(resent).not.toContain(threads[0]);
    expect(new Set(resent)).toEqual(new Set(threads.slice(1)));
    const doc = JSON.parse(fs.readFileSync(path.join(ctx.paths.store, 'push.json'), 'utf8')) as {
      pending: unknown[];
    };
    expect(doc.pending).toEqual([]);
  } finally {
    await td?.stop();
  }
}, 120_000);
