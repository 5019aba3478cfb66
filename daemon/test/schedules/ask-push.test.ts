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
