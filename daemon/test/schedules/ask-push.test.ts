// The push for a missed run whose rule is "ask": one per occurrence, opening the Schedules screen,
// with nothing the user did not write on the lock screen unless previews are full.
import { expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { jobForEvent } from '../../src/push/payload.js';

const dueAt = Date.parse('2027-01-11T06:00:00Z'); // 07:00 in Paris
const schedule = (ask: 'open' | 'run'): Schedule => ({
  id: 'sch_morning',
  title: 'Morning brief',
  text: 'Summarise what landed in Inbox',
  when: { kind: 'daily', time: '07:00' },
  timeZone: 'Europe/Paris',
  catchUp: 'ask',
  state: 'active',
  createdAt: dueAt - 86_400_000,
  updatedAt: dueAt,
  accountedUntil: dueAt,
  nextRunAt: dueAt + 86_400_000,
  history: [{ id: 'occ_1', dueAt, outcome: 'missed', reason: 'the computer was asleep.', ask }],
  spentUsd: 0,
});
const none = () => undefined;

it('a missed run waiting for Run or Skip is pushed once with both as actions, and opens the Schedules screen', () => {
  const full = jobForEvent({ kind: 'schedule.updated', schedule: schedule('open') }, none, dueAt, 'full');
  expect(full).toMatchObject({
    key: 'schedule-ask:occ_1',
    urgency: 'high',
    payload: {
      type: 'schedule.missed',
      title: '07:00 Morning brief was missed',
      body: 'The computer was asleep — run it now?',
      url: '/#schedules',
      tag: 'schedule-sch_morning',
      // The notification's Run and Skip buttons decide this occurrence.
      schedule: { id: 'sch_morning', occurrenceId: 'occ_1' },
    },
  });
  const quiet = jobForEvent({ kind: 'schedule.updated', schedule: schedule('open') }, none, dueAt, 'private');
  expect(quiet?.payload.title).toBe('A scheduled run was missed (07:00)');
  expect(quiet?.key).toBe(full?.key);
  expect(jobForEvent({ kind: 'schedule.updated', schedule: schedule('run') }, none, dueAt, 'full')).toBeUndefined();
});

it("Errand's own approvals say what they are on the lock screen, privately", async () => {
  const { privateActionLine } = await import('../../src/push/payload.js');
  expect(privateActionLine('spending limit', { kind: 'spend' })).toBe('more spending for a task');
  expect(privateActionLine('runaway check', { kind: 'same_call' })).toBe('a task that seems to be looping');
  expect(privateActionLine('schedule_create', {})).toBe('a new schedule');
});

const notRun = (occ: Partial<Schedule['history'][number]>): Schedule => ({
  ...schedule('open'),
  catchUp: 'skip',
  history: [{ id: 'occ_2', dueAt, outcome: 'missed', ...occ }],
});

it('a run that did not happen and asks nothing is pushed once: missed and not caught up, or refused by a cap', () => {
  const skipped = jobForEvent(
    {
      kind: 'schedule.updated',
      schedule: notRun({ reason: 'Errand was not running; not caught up (its rule is skip).' }),
    },
    none,
    dueAt + 3_600_000,
    'full',
  );
  expect(skipped).toMatchObject({
    key: 'schedule-not-run:occ_2',
    payload: {
      type: 'schedule.missed',
      title: '07:00 Morning brief was missed',
      body: 'Errand was not running.',
      url: '/#schedules',
    },
  });
  // No Run/Skip buttons: nothing waits for an answer.
  expect(skipped?.payload).not.toHaveProperty('schedule');

  const capped = notRun({
    outcome: 'failed',
    reason: "Not started: Today's spending cap of $1.00 is reached. Raise it in Settings.",
  });
  const refused = jobForEvent({ kind: 'schedule.updated', schedule: capped }, none, dueAt, 'private');
  expect(refused).toMatchObject({
    key: 'schedule-not-run:occ_2',
    payload: { title: 'A scheduled run did not run (07:00)', body: 'It could not start. Open Schedules to see why.' },
  });
  const said = jobForEvent({ kind: 'schedule.updated', schedule: capped }, none, dueAt, 'full');
  expect(said?.payload.body).toBe("Not started: Today's spending cap of $1.00 is reached.");

  // Not pushed: a run that started (its task is pushed when it ends), one asked about, a "run now"
  // refused while the user watches, and old news.
  for (const occ of [
    { outcome: 'failed' as const, taskId: 'thr_x.task_y' },
    { outcome: 'missed' as const, ask: 'open' as const },
    { outcome: 'missed' as const, ask: 'skip' as const },
    { outcome: 'failed' as const, manual: true },
  ]) {
    const job = jobForEvent({ kind: 'schedule.updated', schedule: notRun(occ) }, none, dueAt, 'full');
    expect(job?.key ?? '').not.toMatch(/^schedule-not-run/);
  }
  expect(
    jobForEvent({ kind: 'schedule.updated', schedule: notRun({}) }, none, dueAt + 40 * 86_400_000, 'full'),
  ).toBeUndefined();
});
