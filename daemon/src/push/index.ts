// The push module: VAPID keys, per-device subscriptions over the authenticated protocol, and one
// Web Push per change worth a buzz (task done / failed, approval needed, question asked), unless
// the device has that thread in the foreground right now. Every push ends in a recorded outcome.
// A task ending or a schedule's missed run a crash cut off before its push was recorded is pushed at
// the next start (missed.ts).
import fs from 'node:fs';
import path from 'node:path';
import {
  isEndedTaskState,
  type PushOutcome,
  type Schedule,
  type ServerEvent,
  type Task,
} from '../../../shared/src/index.js';
import { type AgentRecord, conversationTainted, threadOfTask } from '../agent/records.js';
import type { DaemonContext, DaemonModule, PushReceiptHandler } from '../context.js';
import type { Store } from '../store/index.js';
import { CommandError } from '../util/command-error.js';
import { checkEndpoint, checkKeys } from './endpoint.js';
import { Escalations } from './escalation.js';
import { type FallbackMessage, fallbackMessageFor, sendFallback } from './fallback.js';
import { changesAfter } from './missed.js';
import { jobForEvent, type PushJob, type TitleSource, testJob } from './payload.js';
import { publicOutcome, Receipts } from './receipts.js';
import { PushSender, type RetryPolicy, TURNED_OFF } from './sender.js';
import { KEEP_OUTCOMES, PushStore } from './store.js';
import { vapidSubject } from './subject.js';
import { titleSourceOf } from './title-source.js';
import { type HttpsTransport, httpsTransport, type PushTransport } from './transport.js';
import { loadOrCreateVapidKeys } from './vapid.js';

/** How long the allowed folders' real paths are reused for pushes. */
const ROOTS_FRESH_MS = 5000;

export { checkEndpoint } from './endpoint.js';
export type { PushKind, PushPayload } from './payload.js';
export { httpsTransport, type PushRequest, type PushResponse, type PushTransport } from './transport.js';

export interface PushOptions {
  /** Deliver through this instead of https to the push service (tests and benchmarks pass it to startDaemon). */
  transport?: PushTransport;
  retry?: Partial<RetryPolicy>;
}

/** What the push module uses from the daemon. */
export type PushDeps = Pick<
  DaemonContext,
  'paths' | 'config' | 'log' | 'emit' | 'presence' | 'origins' | 'commands' | 'control'
> & { store: Pick<Store, 'devices' | 'events' | 'threads' | 'schedules' | 'modelNamedThreads'> };

export interface PushModule extends DaemonModule {
  readonly publicKey: string;
  /** Serves POST /api/push/receipt: a service worker saying a push arrived or was tapped. */
  receipt: PushReceiptHandler;
  /** Resolves once every push started so far has had its first attempt and its outcome recorded. */
  idle(): Promise<void>;
}

/** Endpoints are stored normalised (URL.href): compare them the same way. */
function sameEndpoint(stored: string, given: string): boolean {
  try {
    return new URL(given).href === stored;
  } catch {
    return false;
  }
}

const TEST_PUSH_INTERVAL_MS = 3000;
/** How long "Send test push" waits for the device to say it showed the notification. */
const TEST_RECEIPT_WAIT_MS = 10_000;
const STOP_WAIT_MS = 3000;
/** A push a stop or crash left unsent is sent at the next start only if it is younger than this. */
const RESEND_WITHIN_MS = 3600_000;

export async function startPush(ctx: PushDeps, opts: PushOptions = {}): Promise<PushModule> {
  const { log } = ctx;
  const keys = await loadOrCreateVapidKeys(ctx.paths.vapid, log);
  const store = await PushStore.open(ctx.paths.store);
  const own: HttpsTransport | undefined = opts.transport ? undefined : httpsTransport();
  const transport: PushTransport = opts.transport ?? own!;

  // A device revoked while its subscription was kept (or a hand-edited store): drop it.
  for (const s of [...store.subscriptions()]) {
    if (!ctx.store.devices.get(s.deviceId)) await store.remove(s.deviceId);
  }

  // vapid.json replaced (keys rotated): those phones' subscriptions now fail with 403. Say so; each phone
  // renews its subscription the next time the app opens (push.key tells it its subscription is stale).
  const stale = await store.adoptVapidKey(keys.publicKey);
  if (stale.length > 0)
    log.warn('push keys changed: devices must open the app once to renew notifications', {
      devices: stale.length,
    });
  /** With `endpoint` (the browser's subscription now), a different stored one counts as none held. */
  const subscriptionState = (deviceId: string, endpoint?: string): 'none' | 'current' | 'stale' => {
    const s = store.get(deviceId);
    if (!s || (endpoint !== undefined && !sameEndpoint(s.endpoint, endpoint))) return 'none';
    return s.vapidKey === keys.publicKey ? 'current' : 'stale';
  };

  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p.catch((err) => log.error('push failed', { error: (err as Error).message }));
    inflight.add(q);
    void q.finally(() => inflight.delete(q));
  };

  let closing = false;
  /**
   * push.json first (durably), then the event: the journal never holds an outcome push.json lost. With
   * `strict` (a receipt) a failed write is undone and rejects, so the phone is told to send it again.
   */
  const record = async (outcome: PushOutcome, opts: { strict?: boolean; settle?: boolean } = {}): Promise<void> => {
    if (closing) {
      if (opts.strict) throw new Error('Errand is stopping');
      // The event log and store are about to close; a push cut short by the stop stays pending.
      return;
    }
    await store.addOutcome(outcome, opts);
    await ctx.emit({ kind: 'push.outcome', outcome: publicOutcome(outcome) });
  };
  /** `settle`: the outcome is its push's last (it is no longer pending). */
  const report = (outcome: PushOutcome, settle = true) => {
    track(record(outcome, { settle }));
    const fields = { device: outcome.deviceId, kind: outcome.kind, status: outcome.status, detail: outcome.detail };
    if (outcome.result === 'failed') log.warn('push failed', fields);
    else if (outcome.result === 'retrying') log.info('push waits to be sent again', fields);
  };

  // A receipt settles its push in the same write (the phone has it: nothing is sent again, not by a
  // retry, not at the next start).
  const receipts = new Receipts(
    store,
    (o) => record(o, { strict: true, settle: true }),
    (id) => !!ctx.store.devices.get(id),
  );

  const sender = new PushSender({
    store,
    transport,
    keys,
    subject: () => vapidSubject(ctx.config()).subject,
    log,
    report,
    arrived: (pushId) => receipts.arrived(pushId),
    paired: (deviceId) => !!ctx.store.devices.get(deviceId),
    drop: (pushId) => track(store.dropPending(pushId)),
    stale: (job, firstAt) => noLongerNews(job, firstAt),
    retry: opts.retry,
  });

  /**
   * Push a job to these devices: each push is recorded in push.json (durably, with the change's claimed
   * key) before it is sent, and stays pending until its outcome is final, so a crash or a stop cannot
   * lose it: the next start sends what is still pending. Test pushes are not kept. `suppressed` (the
   * devices showing its thread) go into the same write, then are announced.
   */
  const dispatch = async (job: PushJob, deviceIds: string[], suppressed: PushOutcome[] = []): Promise<void> => {
    const now = Date.now();
    const pushes = deviceIds.flatMap((deviceId) => {
      const sub = store.get(deviceId);
      if (!sub) return [];
      const pushId = receipts.newPush(deviceId, job.payload.type, job.threadId, job.key);
      return [{ pushId, deviceId, endpoint: sub.endpoint, at: now, job }];
    });
    if (job.payload.type !== 'test') {
      try {
        const gaveWay = await store.addPending(job.key, pushes, suppressed);
        for (const o of gaveWay) if (o.pushId) sender.cancel(o.pushId);
        if (gaveWay.length > 0)
          log.warn('too many pushes waiting: some gave way, recorded as not sent', { pushes: gaveWay.length });
        // push.json first, then the event (as `record` does); the sends need not wait for it.
        if (!closing)
          for (const o of [...suppressed, ...gaveWay])
            track(ctx.emit({ kind: 'push.outcome', outcome: publicOutcome(o) }));
      } catch (err) {
        // Not kept (a full disk): still worth sending now; only a crash before it finishes would lose it.
        log.warn('could not record pushes before sending them', { error: (err as Error).message });
      }
    }
    await Promise.all(
      pushes.map(async (p) => {
        if (await sender.send(p.deviceId, job, p.pushId)) return;
        // Its subscription went while the push was being recorded.
        if (!ctx.store.devices.get(p.deviceId)) await store.dropPending(p.pushId);
        else
          await record(
            {
              deviceId: p.deviceId,
              pushId: p.pushId,
              at: Date.now(),
              kind: job.payload.type,
              ...(job.threadId ? { threadId: job.threadId } : {}),
              result: 'failed',
              detail: TURNED_OFF,
            },
            { settle: true },
          );
      }),
    );
  };

  /** Pushes a stop or a crash left pending: sent again (once), or, when no longer worth it, recorded as not sent. */
  const resume = async (): Promise<void> => {
    const now = Date.now();
    const sends: Promise<unknown>[] = [];
    for (const p of [...store.pending()]) {
      const base = {
        deviceId: p.deviceId,
        pushId: p.pushId,
        at: now,
        kind: p.job.payload.type,
        ...(p.job.threadId ? { threadId: p.job.threadId } : {}),
      };
      const sub = store.get(p.deviceId);
      const age = now - p.at;
      const ttlLeft = p.job.ttlSeconds - Math.ceil(age / 1000);
      let notSent: string | undefined;
      const gone = noLongerNews(p.job, p.at, now);
      // Revoked: nobody to tell. Confirmed by the phone (its receipt came after the attempt the stop or
      // crash cut short): its final outcome is that receipt, and sending it again would buzz twice.
      if (!ctx.store.devices.get(p.deviceId) || receipts.arrived(p.pushId)) {
        await store.dropPending(p.pushId);
        continue;
      }
      // A subscription renewed meanwhile gets it (sender.send uses the device's current one).
      if (!sub)
        notSent = 'not sent: Errand stopped before it went out, and notifications on this device were turned off since';
      else if (p.job.payload.type === 'approval' || p.job.payload.type === 'question')
        notSent = 'not sent: Errand stopped before it went out (open Errand to see what still waits)';
      else if (age > RESEND_WITHIN_MS || ttlLeft < 60)
        notSent = 'not sent: Errand stopped before it went out, and it is too old to send now';
      else if (gone) notSent = gone;
      if (notSent) {
        await record({ ...base, result: 'failed', detail: notSent }, { settle: true });
        continue;
      }
      receipts.newPush(p.deviceId, p.job.payload.type, p.job.threadId, p.job.key, { pushId: p.pushId, at: p.at });
      log.info('sending a push again that a stop or crash left unfinished', { device: p.deviceId, kind: base.kind });
      sends.push(sender.send(p.deviceId, p.job, p.pushId, p.at));
    }
    await Promise.all(sends);
  };

  /** Push a job to every subscribed device but one showing its thread; returns the devices sent to. */
  const deliver = async (job: PushJob): Promise<string[]> => {
    const targets = store.subscriptions().filter((s) => ctx.store.devices.get(s.deviceId));
    const sentTo: string[] = [];
    const suppressed: PushOutcome[] = [];
    for (const s of targets) {
      if (job.threadId && ctx.presence.viewing(s.deviceId, job.threadId))
        suppressed.push({
          deviceId: s.deviceId,
          at: Date.now(),
          kind: job.payload.type,
          threadId: job.threadId,
          result: 'suppressed',
          detail: 'the device has this thread open in the foreground',
        });
      else sentTo.push(s.deviceId);
    }
    await dispatch(job, sentTo, suppressed);
    return sentTo;
  };

  const escalations = new Escalations({
    afterMs: () => ctx.config().push.escalateAfterMinutes * 60_000,
    receipts,
    subscribed: () =>
      store
        .subscriptions()
        .filter((s) => ctx.store.devices.get(s.deviceId))
        .map((s) => s.deviceId),
    resend: (job, deviceIds) => dispatch(job, deviceIds),
    fallback: () => ctx.config().push.fallback,
    sendFallback: (target, m) => sendFallback(target, m),
    report,
    track,
    log,
  });

  /**
   * The allowed folders by their real paths (as tools resolve them): a private push names the one an
   * action is in. Resolved again when the folders change or after a few seconds, not for every task
   * that ends (a realpath per folder per push was a tenth of a tiny task's time).
   */
  let resolvedRoots: { key: string; at: number; paths: string[] } | undefined;
  const roots = (): string[] => {
    const given = [ctx.paths.workspace, ...ctx.config().roots];
    const key = given.join('\0');
    const now = Date.now();
    if (resolvedRoots?.key === key && now - resolvedRoots.at < ROOTS_FRESH_MS) return resolvedRoots.paths;
    const paths = given.map((p) => {
      try {
        return fs.realpathSync.native(p);
      } catch {
        return path.resolve(p);
      }
    });
    resolvedRoots = { key, at: now, paths };
    return paths;
  };

  /**
   * Whether the thread's conversation holds untrusted content (a web page, a connector's output): every
   * task in it may be steered by that content, so the model's choices (file names) stay off the lock
   * screen. A thread not known here counts as such.
   */
  const readUntrusted = (threadId: string): boolean => {
    const tasks = (ctx.store.threads.peek(threadId)?.agent as Partial<AgentRecord> | undefined)?.tasks;
    return !tasks || conversationTainted({ v: 1, messages: [], tasks });
  };

  /** The schedules whose runs go (or went) to this thread. */
  const schedulesOf = (threadId: string): Schedule[] =>
    ctx.store.schedules
      .list()
      .filter(
        (s) =>
          s.threadId === threadId ||
          s.history.some((o) => o.taskId !== undefined && threadOfTask(o.taskId) === threadId),
      );

  /**
   * Who chose the thread's title (title-source.ts). The model: a thread a run of a schedule a task named
   * after reading untrusted content (schedule_create) went to, marked when the run started (kept after
   * the schedule is deleted), or found through the schedule (threads from before the mark existed).
   */
  const titleSource = (threadId: string): TitleSource => {
    const schedules = schedulesOf(threadId);
    const doc = ctx.store.threads.peek(threadId);
    return titleSourceOf({
      title: doc?.meta.title,
      texts: [
        ...(doc?.items ?? []).flatMap((i) => (i.kind === 'user' ? [i.text] : [])),
        ...schedules.map((s) => s.text),
      ],
      modelNamed: ctx.store.modelNamedThreads.has(threadId) || schedules.some((s) => s.fromUntrusted === true),
    });
  };

  /** The push an event asks for, if any (undefined when none, or when it cannot be built). */
  const jobFor = (event: ServerEvent, now = Date.now()): PushJob | undefined => {
    try {
      const done = event.kind === 'task.updated' && event.task.state === 'done';
      return jobForEvent(
        event,
        (threadId) => ctx.store.threads.summary(threadId)?.title,
        now,
        ctx.config().push.previews,
        event.kind === 'approval.requested' || done ? roots() : [],
        done && readUntrusted(event.task.threadId),
        titleSource,
      );
    } catch (err) {
      log.error('could not build a push', { event: event.kind, error: (err as Error).message });
      return undefined;
    }
  };

  /**
   * Push a change once (its key decides). Synchronous up to the first write: the key and its pending
   * pushes are in push.json's data before the caller marks its event handled.
   */
  const pushOnce = (job: PushJob, fallbackMessage?: FallbackMessage): void => {
    if (!store.claim(job.key)) return;
    track(
      deliver(job).then((sentTo) => {
        if (fallbackMessage) escalations.watch(job, fallbackMessage, sentTo);
      }),
    );
  };

  const onEvent = (event: ServerEvent): void => {
    if (event.kind === 'device.revoked') {
      track(store.remove(event.deviceId));
      return;
    }
    // What still waits for the person (escalation stops once it is answered, expires or its task ends).
    let fallbackMessage: FallbackMessage | undefined;
    if (event.kind === 'approval.requested') {
      const a = event.approval;
      if (a.state === 'pending') {
        escalations.opened(`approval:${a.id}`, a.taskId, a.expiresAt);
        fallbackMessage = fallbackMessageFor(event, ctx.origins()[0] ?? '', roots());
      } else escalations.closed(`approval:${a.id}`);
    } else if (event.kind === 'approval.resolved') escalations.closed(`approval:${event.approval.id}`);
    else if (event.kind === 'question.asked') {
      escalations.opened(`question:${event.question.id}`, event.question.taskId);
      fallbackMessage = fallbackMessageFor(event, ctx.origins()[0] ?? '');
    } else if (event.kind === 'question.answered') escalations.closed(`question:${event.questionId}`);
    else if (event.kind === 'task.updated' && isEndedTaskState(event.task.state)) escalations.taskEnded(event.task.id);
    if (
      event.kind !== 'task.updated' &&
      event.kind !== 'approval.requested' &&
      event.kind !== 'question.asked' &&
      event.kind !== 'schedule.updated'
    )
      return;
    const job = jobFor(event);
    if (job) pushOnce(job, fallbackMessage);
  };

  // Events committed up to now were looked at by an earlier run, or are looked at once more by catchUp.
  const startSeq = ctx.store.events.lastSeq;
  let lastSeen = startSeq;
  /** Until catchUp has recorded what it pushes, push.json keeps saying it looked only as far as before. */
  let caughtUp = false;
  const unsubscribe = ctx.store.events.subscribe(({ seq, event }) => {
    onEvent(event);
    lastSeen = seq;
    if (caughtUp) store.markHandled(seq);
  });

  /** Whether the thread store still holds this ending (the thread not deleted, the task not run again). */
  const stillEnded = (t: Pick<Task, 'id' | 'threadId' | 'endedAt'> & { state: string }): boolean => {
    const doc = ctx.store.threads.peek(t.threadId);
    const now = doc && doc.meta.state !== 'deleted' ? doc.tasks.find((x) => x.id === t.id) : undefined;
    return now?.state === t.state && now.endedAt === t.endedAt;
  };

  /**
   * Whether a schedule update's push is still news: the schedule is still there, and a missed run
   * that asked Run or Skip still waits for the answer (not answered, not replaced by a newer one).
   */
  const stillNews = (s: Schedule, job: PushJob): boolean => {
    const current = ctx.store.schedules.get(s.id);
    if (!current) return false;
    const asked = job.payload.schedule?.occurrenceId;
    return asked === undefined || current.history.some((o) => o.id === asked && o.ask === 'open');
  };

  /**
   * Why a push recorded at `firstAt` is no longer worth sending (the "not sent: …" detail), checked before
   * each retry and at a resend after a start; undefined while its news still stands.
   */
  const noLongerNews = (job: PushJob, firstAt: number, now = Date.now()): string | undefined => {
    if (job.payload.type === 'test') return undefined;
    if (now - firstAt > RESEND_WITHIN_MS) return 'not sent: it is too old to send now';
    const doc = job.threadId ? ctx.store.threads.peek(job.threadId) : undefined;
    if (job.threadId && (!doc || doc.meta.state === 'deleted')) return 'not sent: its thread was deleted';
    const { ending, schedule } = job.news ?? {};
    if (
      ending &&
      job.threadId &&
      !stillEnded({ id: ending.taskId, threadId: job.threadId, state: ending.state, endedAt: ending.endedAt })
    )
      return 'not sent: the task has changed since (run again)';
    if (job.payload.type === 'approval' && !escalations.isOpen(job.key))
      return 'not sent: the approval no longer waits (decided, expired or its task ended)';
    if (job.payload.type === 'question' && !escalations.isOpen(job.key))
      return 'not sent: the question no longer waits (answered or its task ended)';
    if (schedule) {
      const current = ctx.store.schedules.get(schedule.id);
      if (!current) return 'not sent: the schedule was deleted';
      if (schedule.ask && !current.history.some((o) => o.id === schedule.occurrenceId && o.ask === 'open'))
        return 'not sent: the missed run was already answered';
    }
    return undefined;
  };

  /** Push once what a crash cut off, if its key has no record; its time to live shortened by its age. */
  const pushMissed = (job: PushJob | undefined, age: number): void => {
    if (!job || store.isRecorded(job.key)) return;
    log.info('sending a push a crash cut off before it was recorded', { kind: job.payload.type });
    pushOnce({ ...job, ttlSeconds: Math.max(60, job.ttlSeconds - Math.ceil(age / 1000)) });
  };

  /**
   * The endings and schedule updates committed after the last event push.json says it looked at, up to
   * this start: a crash came before their push was recorded. Each still worth it (an hour, as for
   * pending pushes) is pushed now, once. A file from before the mark was kept says nothing about them:
   * nothing is guessed, and the mark is written now, so the next crash finds it.
   */
  const catchUp = async (): Promise<void> => {
    const from = store.handledSeq();
    if (from === undefined) {
      store.markHandled(lastSeen);
      caughtUp = true;
      await store.flush().catch((err) => log.warn('could not write push.json', { error: (err as Error).message }));
      return;
    }
    if (store.subscriptions().length > 0) {
      const missed = await changesAfter(ctx.store.events, from, startSeq);
      const now = Date.now();
      for (const { task, at } of missed.endings) {
        const age = now - (task.endedAt ?? at);
        if (age > RESEND_WITHIN_MS || !stillEnded(task)) continue;
        pushMissed(jobFor({ kind: 'task.updated', task }, now), age);
      }
      // Each update as it was committed: the push it asked for then (one per occurrence; pushOnce
      // sends a key once however many updates repeat it).
      for (const { schedule, at } of missed.schedules) {
        const age = now - at;
        if (age > RESEND_WITHIN_MS) continue;
        const job = jobFor({ kind: 'schedule.updated', schedule }, now);
        if (job && stillNews(schedule, job)) pushMissed(job, age);
      }
    }
    caughtUp = true;
    store.markHandled(lastSeen);
  };

  const lastTest = new Map<string, number>();
  const sendTest = async (deviceId: string) => {
    if (!store.get(deviceId))
      throw new CommandError(
        'not_found',
        'This device has no push subscription yet: turn on notifications on it first.',
      );
    const now = Date.now();
    if (now - (lastTest.get(deviceId) ?? 0) < TEST_PUSH_INTERVAL_MS)
      throw new CommandError('rate_limited', 'A test push was just sent; wait a few seconds before sending another.');
    lastTest.set(deviceId, now);
    const job = testJob(now);
    const pushId = receipts.newPush(deviceId, job.payload.type, undefined, job.key);
    const sending = sender.send(deviceId, job, pushId);
    track(sending);
    const outcome = await sending;
    if (!outcome) throw new CommandError('not_found', 'This device has no push subscription any more.');
    if (outcome.result !== 'accepted') return outcome;
    // Accepted by the push service is not arrival: wait for the device's receipt.
    return (await receipts.waitDelivered(pushId, TEST_RECEIPT_WAIT_MS))
      ? { ...outcome, result: 'delivered' as const, at: Date.now() }
      : {
          ...outcome,
          detail: `accepted by the push service, but the device did not confirm it within ${TEST_RECEIPT_WAIT_MS / 1000} s (it may be off or offline; it may still arrive)`,
        };
  };

  ctx.commands.register('push.key', async (c, cc) => {
    const { problem } = vapidSubject(ctx.config());
    return {
      publicKey: keys.publicKey,
      subscription: subscriptionState(cc.device.id, c.endpoint),
      // The notifications screen warns while the VAPID contact is one Apple refuses.
      ...(problem ? { subjectProblem: problem } : {}),
    };
  });
  ctx.commands.register('push.subscribe', async (c, cc) => {
    const check = checkEndpoint(c.subscription.endpoint);
    if (!check.ok) throw new CommandError('bad_request', check.reason);
    const badKeys = checkKeys(c.subscription.keys);
    if (badKeys) throw new CommandError('bad_request', badKeys);
    await store.set({
      deviceId: cc.device.id,
      endpoint: check.url.href,
      keys: { p256dh: c.subscription.keys.p256dh, auth: c.subscription.keys.auth },
      createdAt: Date.now(),
      vapidKey: keys.publicKey,
    });
    log.info('push subscription saved', { device: cc.device.id, service: check.url.hostname });
    return { subscribed: true, service: check.url.hostname };
  });
  ctx.commands.register('push.unsubscribe', async (_c, cc) => ({ unsubscribed: await store.remove(cc.device.id) }));
  ctx.commands.register('push.test', async (_c, cc) => publicOutcome(await sendTest(cc.device.id)));
  // This device's pushes, and the escalations and fallback messages (they concern every device).
  ctx.commands.register('push.outcomes', async (_c, cc) =>
    store
      .outcomes(undefined, KEEP_OUTCOMES)
      .filter((o) => o.deviceId === cc.device.id || !o.deviceId)
      .slice(-50)
      .map(publicOutcome),
  );

  const knownDevice = (id: string) => {
    if (!ctx.store.devices.get(id)) throw new Error(`no such device: ${id}. \`errand devices\` lists the paired ones.`);
    return id;
  };
  const deviceParam = (p: Record<string, unknown>) => {
    if (typeof p.deviceId !== 'string' || !p.deviceId) throw new Error('missing deviceId');
    return knownDevice(p.deviceId);
  };
  ctx.control.register('push.outcomes', async (p) =>
    store.outcomes(
      typeof p.deviceId === 'string' ? knownDevice(p.deviceId) : undefined,
      typeof p.limit === 'number' ? Math.max(1, Math.min(300, p.limit)) : 100,
    ),
  );
  ctx.control.register('push.test', async (p) => {
    if (p.all !== true) return sendTest(deviceParam(p));
    // Every device with notifications on, at once; each says delivered or not within 10 s.
    return Promise.all(
      store.subscriptions().map(async (s) => {
        const device = ctx.store.devices.get(s.deviceId)?.name;
        try {
          return { deviceId: s.deviceId, device, outcome: await sendTest(s.deviceId) };
        } catch (err) {
          return { deviceId: s.deviceId, device, error: (err as Error).message };
        }
      }),
    );
  });
  ctx.control.register('push.status', async () => ({
    publicKey: keys.publicKey,
    subject: vapidSubject(ctx.config()),
    subscriptions: store.subscriptions().map((s) => ({
      deviceId: s.deviceId,
      device: ctx.store.devices.get(s.deviceId)?.name,
      service: new URL(s.endpoint).hostname,
      since: s.createdAt,
      current: s.vapidKey === keys.publicKey,
    })),
  }));

  track(resume());
  track(catchUp());

  const idle = async () => {
    while (inflight.size > 0) await Promise.all([...inflight]);
  };

  return {
    publicKey: keys.publicKey,
    receipt: (r) => receipts.receive(r),
    idle,
    async stop() {
      unsubscribe();
      escalations.stop();
      sender.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        idle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      closing = true;
      own?.close();
      await store.flush();
    },
  };
}
