// What model calls under way hold of a cap: a reservation while the call goes, what it really cost
// once it ended (until the ledger counts it), nothing for a call that was not answered.
import { expect, it } from 'vitest';
import { CallsUnderWay } from '../../src/spend/calls-under-way.js';

it('a call holds its estimate while it goes, then its real cost until the ledger counts it', async () => {
  const counted = new Map<string, number>([['a', 0.1]]);
  const calls = new CallsUnderWay((id) => counted.get(id) ?? 0);
  calls.reserve('a', 0.1, 0.2);
  expect(calls.totals()).toEqual({ unrecordedUsd: 0, reservedUsd: 0.2 });
  const ended = calls.whenOneEnds();
  calls.settle('a', 0.13);
  await ended;
  const t = calls.totals();
  expect(t.reservedUsd).toBe(0);
  expect(t.unrecordedUsd).toBeCloseTo(0.03, 9);
  counted.set('a', 0.13);
  expect(calls.totals()).toEqual({ unrecordedUsd: 0, reservedUsd: 0 });
});

it('a call that was not answered holds nothing once it ended; a task that ended holds nothing', () => {
  const calls = new CallsUnderWay(() => 0);
  calls.reserve('a', 0, 0.2);
  calls.settle('a', 0);
  expect(calls.totals()).toEqual({ unrecordedUsd: 0, reservedUsd: 0 });
  calls.reserve('b', 0, 0.2);
  calls.drop('b');
  expect(calls.totals()).toEqual({ unrecordedUsd: 0, reservedUsd: 0 });
});
