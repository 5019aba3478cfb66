// A run that outlasts the history bound: its entry stays (trimming drops only finished ones), the
// overlap rule still sees it, and its outcome and cost are recorded when it ends.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Occurrence, Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { HISTORY_HARD_LIMIT, HISTORY_LIMIT, trimHistory } from '../../src/store/schedules.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
const HOUR = 3_600_000;

beforeEach(async () => {
  server = await startModelServer((_req, i) => (i === 0 ? { kind: 'hang' } : reply(text('Done.'))));
});
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  await h?.cleanup();
  h = undefined;
  await server.close();
});

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('a run still going after more occurrences than the history keeps: still seen, skipped over, then recorded', async () => {
  const t0 = Date.parse('2027-01-11T06:00:00Z');
  h = await startHarness({ modelUrl: server.url });
  const clock = new FakeClock(t0, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  const made = (await h.send('schedule.create', {
    text: 'Summarise what landed in Inbox',
    when: { kind: 'every', hours: 1 },
    timeZone: 'UTC',
  } as never)) as { schedule: Schedule };
  const id = made.schedule.id;
  const get = () => h!.store.schedules.get(id)!;

  await clock.advance(HOUR);
  await server.waitForRequests(1);
  const first = get().history.at(-1)!;
  expect(first).toMatchObject({ outcome: 'running', dueAt: t0 + HOUR });
  const taskId = first.taskId!;

  // 61 hours on: every later occurrence is skipped by the overlap rule, and the history stays bounded.
  await clock.advance((HISTORY_LIMIT + 1) * HOUR);
  const hist = get().history;
  expect(hist.length).toBe(HISTORY_LIMIT);
  expect(hist[0]).toMatchObject({ taskId, outcome: 'running' });
  expect(hist.slice(1).every((o) => o.outcome === 'skipped')).toBe(true);
  expect(hist.at(-1)!.dueAt).toBe(t0 + (HISTORY_LIMIT + 2) * HOUR);
  // No second task in the thread, no second request to the model.
  const doc = await h.store.threads.load(get().threadId!);
  expect(doc.tasks.map((t) => t.id)).toEqual([taskId]);
  expect(server.requests).toHaveLength(1);
  // "Run now" is refused too.
  await expect(h.send('schedule.run', { scheduleId: id })).rejects.toMatchObject({ code: 'conflict' });

  // The first run ends: its outcome is recorded in its own entry.
  await h.send('task.cancel', { taskId });
  await until(
    'the long run recorded as cancelled',
    () => get().history.find((o) => o.taskId === taskId)?.outcome === 'cancelled',
  );
  const settled = get().history.find((o) => o.taskId === taskId)!;
  expect(settled.endedAt).toBe(clock.now());
  const task = (await h.store.threads.load(get().threadId!)).tasks.find((t) => t.id === taskId)!;
  expect(task.costUsd).toBeDefined();
  expect(settled.costUsd).toBe(task.costUsd);
  expect(get().spentUsd).toBe(task.costUsd);

  // The next occurrence runs again.
  await clock.advance(HOUR);
  const next = get().history.at(-1)!;
  expect(next.taskId).toBeDefined();
  expect(next.taskId).not.toBe(taskId);
  expect(get().history.length).toBe(HISTORY_LIMIT);
  await h.waitTask(next.taskId!, ['done']);
  await until('the next run recorded as ran', () => get().history.at(-1)!.outcome === 'ran');
});

it('trimming drops the oldest finished entries, never a running, interrupted or asking one', () => {
  const occ = (n: number, o: Partial<Occurrence> = {}): Occurrence => ({
    id: `occ_${n}`,
    dueAt: n,
    outcome: 'ran',
    ...o,
  });
  const history = [
    occ(0, { outcome: 'running', taskId: 'task_a' }),
    occ(1, { outcome: 'interrupted', taskId: 'task_b' }),
    occ(2, { outcome: 'missed', ask: 'open' }),
    ...Array.from({ length: 100 }, (_, i) => occ(3 + i)),
  ];
  const kept = trimHistory(history);
  expect(kept).toHaveLength(HISTORY_LIMIT);
  expect(kept.slice(0, 3)).toEqual(history.slice(0, 3));
  expect(kept.slice(3)).toEqual(history.slice(-(HISTORY_LIMIT - 3)));
  expect(trimHistory(history.slice(0, HISTORY_LIMIT))).toEqual(history.slice(0, HISTORY_LIMIT));

  // Open entries alone past the hard bound: the oldest interrupted ones go, the running one stays.
  const open = [
    occ(0, { outcome: 'running', taskId: 'task_a' }),
    ...Array.from({ length: HISTORY_HARD_LIMIT + 5 }, (_, i) => occ(1 + i, { outcome: 'interrupted' })),
    occ(999),
  ];
  const bounded = trimHistory(open);
  expect(bounded).toHaveLength(HISTORY_HARD_LIMIT);
  expect(bounded[0]).toEqual(open[0]);
  // The finished one went first, then the six oldest interrupted ones.
  expect(bounded[1]).toEqual(open[7]);
  expect(bounded.at(-1)).toEqual(open.at(-2));
});
