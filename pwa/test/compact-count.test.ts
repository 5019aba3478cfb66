// Token counts on a task's usage line: rounded first, then given a unit, so a count just under a
// unit's edge reads as the next unit ("1.0M"), never as "1000k" or "10.0k".
import { expect, it } from 'vitest';
import { compact, usageLine } from '../src/lib/format.js';

it('keeps the style of each range: whole numbers, one decimal under 10k, whole k, one decimal M', () => {
  expect([0, 999, 1000, 1234, 9_940, 10_000, 12_345, 999_499, 1_000_000, 1_250_000].map(compact)).toEqual([
    '0',
    '999',
    '1.0k',
    '1.2k',
    '9.9k',
    '10k',
    '12k',
    '999k',
    '1.0M',
    '1.3M',
  ]);
});

it('a count that rounds up to the next unit is written in that unit', () => {
  expect([9_950, 9_960, 9_999, 999_500, 999_600, 999_999].map(compact)).toEqual([
    '10k',
    '10k',
    '10k',
    '1.0M',
    '1.0M',
    '1.0M',
  ]);
  const line = usageLine({
    usage: { inputTokens: 999_700, outputTokens: 9_990, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 3.1,
    turns: 1,
  });
  expect(line).toBe('1.0M in · 10k out tokens · $3.10');
});
