// The schedule edit form sends only what the user changed: a rename carries no rhythm (which the
// computer would take as a new time), and an emptied limit is sent as null (it removes the limit).
import { expect, it } from 'vitest';
import type { Schedule } from '../../shared/src/index.js';
import { type ScheduleFormValues, scheduleEdit } from '../src/lib/schedule-edit.js';

const saved: Schedule = {
  id: 'sch_1',
  title: 'Morning brief',
  text: 'Summarise what landed in Inbox',
  when: { kind: 'every', hours: 24 },
  timeZone: 'UTC',
  catchUp: 'run',
  maxCostUsd: 0.5,
  state: 'active',
  createdAt: 0,
  updatedAt: 0,
  accountedUntil: 0,
  history: [],
  spentUsd: 0,
};
// The form as it opens on `saved`: its rhythm a new object, as the form builds it.
const asShown: ScheduleFormValues = {
  text: saved.text,
  title: saved.title,
  when: { hours: 24, kind: 'every' },
  catchUp: 'run',
  maxCostUsd: 0.5,
};

it('sends nothing but the new name for a rename', () => {
  expect(scheduleEdit(saved, { ...asShown, title: 'Daily inbox' })).toEqual({ title: 'Daily inbox' });
  expect(scheduleEdit(saved, asShown)).toEqual({});
});

it('sends each changed field, and only those', () => {
  expect(scheduleEdit(saved, { ...asShown, when: { kind: 'every', hours: 12 }, catchUp: 'ask' })).toEqual({
    when: { kind: 'every', hours: 12 },
    catchUp: 'ask',
  });
  expect(scheduleEdit(saved, { ...asShown, when: { kind: 'daily', time: '08:00' } })).toEqual({
    when: { kind: 'daily', time: '08:00' },
  });
  expect(scheduleEdit(saved, { ...asShown, text: 'Summarise Inbox and Archive' })).toEqual({
    text: 'Summarise Inbox and Archive',
  });
  expect(scheduleEdit(saved, { ...asShown, maxCostUsd: 2 })).toEqual({ maxCostUsd: 2 });
});

it("an emptied limit removes the schedule's own one; an emptied name keeps the name", () => {
  expect(scheduleEdit(saved, { ...asShown, maxCostUsd: undefined })).toEqual({ maxCostUsd: null });
  const { maxCostUsd: _none, ...noLimit } = saved;
  expect(scheduleEdit(noLimit, { ...asShown, maxCostUsd: undefined })).toEqual({});
  expect(scheduleEdit(saved, { ...asShown, title: '' })).toEqual({});
});
