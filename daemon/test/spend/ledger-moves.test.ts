// The spend ledger alone: each increase of a task's cost counts on the day it is seen, a task
// resumed days after it started included, and a ledger rebuilt from the tasks and the day marks
// it made counts the same as the one that saw it live.
import { expect, it } from 'vitest';
import { SpendLedger, type SpendTask } from '../../src/spend/ledger.js';
import type { DayMark } from '../../src/store/spend-days.js';

const at = (day: number, hour: number) => new Date(2026, 2, day, hour).getTime();

it('a task resumed three days after it started counts what it spends then on that day', () => {
  const marks: DayMark[] = [];
  const live = new SpendLedger(undefined, (_id, m) => marks.push(m));
  const task: SpendTask = { id: 't1', createdAt: at(1, 22), startedAt: at(1, 22), costUsd: 0, state: 'running' };
  live.spent(task, at(1, 22));
  live.spent({ ...task, costUsd: 0.4 }, at(1, 23));
  live.spent({ ...task, costUsd: 0.4, state: 'interrupted' }, at(1, 23));
  // Resumed on the 4th: it shows running before it spends (the mark is made then).
  live.spent({ ...task, costUsd: 0.4, state: 'running' }, at(4, 9));
  expect(marks).toEqual([{ day: '2026-03-04', base: 0.4 }]);
  live.spent({ ...task, costUsd: 1.5, state: 'done' }, at(4, 10));
  expect(live.today(at(1, 12))).toBeCloseTo(0.4, 9);
  expect(live.today(at(4, 12))).toBeCloseTo(1.1, 9);
  expect(live.month(at(4, 12))).toBeCloseTo(1.5, 9);

  const rebuilt = new SpendLedger();
  rebuilt.see({ ...task, costUsd: 1.5, state: 'done' }, marks);
  expect(rebuilt.today(at(1, 12))).toBeCloseTo(0.4, 9);
  expect(rebuilt.today(at(4, 12))).toBeCloseTo(1.1, 9);
});

it('at the day turn (the check before a call) a task under way moves on to the new day before it spends', () => {
  const marks: Array<[string, DayMark]> = [];
  const live = new SpendLedger(undefined, (id, m) => marks.push([id, m]));
  const running: SpendTask = { id: 'a', createdAt: at(9, 23), startedAt: at(9, 23), costUsd: 0.2, state: 'running' };
  live.spent(running, at(9, 23));
  live.spent({ id: 'b', createdAt: at(9, 20), startedAt: at(9, 20), costUsd: 0.3, state: 'done' }, at(9, 21));
  live.turn(at(10, 0));
  // Only the task under way gets a mark; the ended one stays on its day.
  expect(marks).toEqual([['a', { day: '2026-03-10', base: 0.2 }]]);
  live.turn(at(10, 1));
  expect(marks).toHaveLength(1);
  live.spent({ ...running, costUsd: 0.5 }, at(10, 1));
  expect(live.today(at(10, 2))).toBeCloseTo(0.3, 9);
  expect(live.today(at(9, 2))).toBeCloseTo(0.5, 9);
});
