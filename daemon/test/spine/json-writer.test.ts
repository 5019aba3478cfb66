import { describe, expect, it } from 'vitest';
import { JsonWriter } from '../../src/util/json-writer.js';

/** What a JsonWriter starting on a buffer of `size` bytes writes for `value`. */
function written(value: unknown, size = 16): string {
  const w = new JsonWriter(Buffer.alloc(size));
  w.json(value);
  return w.buffer.subarray(0, w.length).toString('utf8');
}

describe('JsonWriter', () => {
  it('writes exactly the bytes of JSON.stringify, short pieces and long, ASCII and not', () => {
    const values: unknown[] = [
      { a: 1, b: 'x', c: [true, false, null], d: { e: -0.5, f: 1e21 } },
      { é: 'ü', 日本: '語', emoji: '😀', k: 'a'.repeat(31) + 'é' },
      { lone: '\ud800', tab: 'a\tb', quote: '"\\', nul: '\u0000' },
      { skipped: undefined, fn: () => 1, sym: Symbol('s'), kept: [undefined, () => 1] },
      { date: new Date(0), nested: { a: { b: { c: { d: { e: { f: 'deep' } } } } } } },
      ['short', 'x'.repeat(32), 'y'.repeat(33), 'ascii then ü'.repeat(3)],
      // Strings: the plain ASCII ones are copied as they are; one escape or non-ASCII character
      // anywhere (first, last) makes it JSON.stringify's.
      [
        's'.repeat(32),
        `${'s'.repeat(31)}"`,
        `${'p'.repeat(100)}\u0001`,
        `é${'p'.repeat(100)}`,
        `${'r'.repeat(60)}\ud83d`,
      ],
      [`${'c'.repeat(40)}${String(Date.now()).repeat(10)}`, '~'.repeat(33), `${' '.repeat(50)}\\`],
      ['a"b', 'x\\y', 'del\u007f', 'nl\n', '\u001f', 'z'.repeat(5000), `${'q'.repeat(40)}"`, ''],
      // Whole numbers are written digit by digit; the rest as JSON.stringify writes them.
      [0, 7, 9, 10, 99, 100, 1796530664539, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 1e22, -0, -5, 1.5, 0.1],
      { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, big: -Number.MAX_SAFE_INTEGER, at: 1796530664539 },
      'a string at the top',
      42,
      null,
    ];
    for (const v of values) {
      // A 1-byte start makes every piece grow the buffer; a large one never does.
      expect(written(v, 1)).toBe(JSON.stringify(v));
      expect(written(v, 4096)).toBe(JSON.stringify(v));
    }
  });

  it('a short non-ASCII piece that does not fit overwrites nothing written before it', () => {
    const w = new JsonWriter(Buffer.alloc(8));
    w.add('abcdef');
    w.add('ü');
    w.add('é');
    expect(w.buffer.subarray(0, w.length).toString('utf8')).toBe('abcdefüé');
  });

  it('stays exact with more distinct keys than it keeps, and with keys longer than it keeps', () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) many[`key-${i}`] = i;
    many['k'.repeat(100)] = 1;
    many['quoted "key"\n'] = 2;
    expect(written(many)).toBe(JSON.stringify(many));
    // Kept keys are reused on a second write.
    expect(written(many)).toBe(JSON.stringify(many));
  });
});
