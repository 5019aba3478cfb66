import { describe, expect, it } from 'vitest';
import { lineDiff, splitLines } from '../src/diff.js';

/** Apply hunks to `before`: the result must be `after` (checks every hunk's numbers and lines). */
function apply(before: string[], hunks: NonNullable<ReturnType<typeof lineDiff>>): string[] {
  const out: string[] = [];
  let i = 0;
  for (const h of hunks) {
    const start = h.oldStart - 1;
    while (i < start) out.push(before[i++]!);
    expect(out.length).toBe(h.newStart - 1);
    for (const l of h.lines) {
      if (l[0] === ' ' || l[0] === '-') {
        expect(before[i]).toBe(l.slice(1));
        i++;
      }
      if (l[0] === ' ' || l[0] === '+') out.push(l.slice(1));
    }
  }
  while (i < before.length) out.push(before[i++]!);
  return out;
}

function lcs(a: string[], b: string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
  return t[0]![0]!;
}

describe('lineDiff', () => {
  it('shows one changed line with three lines of context', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h'];
    expect(lineDiff(before, after)).toEqual([
      { oldStart: 2, newStart: 2, lines: [' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h'] },
    ]);
  });

  it('a new file is all added lines; an emptied one all removed', () => {
    expect(lineDiff([], ['x', 'y'])).toEqual([{ oldStart: 1, newStart: 1, lines: ['+x', '+y'] }]);
    expect(lineDiff(['x'], [])).toEqual([{ oldStart: 1, newStart: 1, lines: ['-x'] }]);
    expect(lineDiff(['same'], ['same'])).toEqual([]);
  });

  it('splits far-apart changes into hunks and joins near ones', () => {
    const before = Array.from({ length: 30 }, (_, i) => `l${i}`);
    const far = before.map((l, i) => (i === 2 || i === 25 ? `${l}!` : l));
    expect(lineDiff(before, far)).toHaveLength(2);
    const near = before.map((l, i) => (i === 2 || i === 8 ? `${l}!` : l));
    expect(lineDiff(before, near)).toHaveLength(1);
  });

  it('is a minimal, correct edit script on random inputs', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const a = Array.from({ length: rnd(15) }, () => 'abcd'[rnd(4)]!);
      const b = Array.from({ length: rnd(15) }, () => 'abcd'[rnd(4)]!);
      const hunks = lineDiff(a, b, { context: rnd(4) })!;
      expect(apply(a, hunks)).toEqual(b);
      const changed = hunks.flatMap((h) => h.lines).filter((l) => l[0] !== ' ').length;
      expect(changed).toBe(a.length + b.length - 2 * lcs(a, b));
    }
  });

  it('gives up past maxEdits instead of stalling', () => {
    const a = Array.from({ length: 5000 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 5000 }, (_, i) => `b${i}`);
    expect(lineDiff(a, b, { maxEdits: 1000 })).toBeUndefined();
    expect(lineDiff(a, b, { maxEdits: 10_000 })).toBeDefined();
  });

  it('splits lines without a phantom last line', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\r\nb')).toEqual(['a', 'b']);
  });
});
