// A limit typed on the phone is a plain amount or nothing: "1e400" read by Number() is Infinity,
// which JSON sends as null, and null removes the limit on the computer.
import { describe, expect, it } from 'vitest';
import { typedDollars } from '../src/lib/dollars.js';

describe('a dollar amount typed into a limit field', () => {
  it('takes plain decimals above zero, spaces around them allowed', () => {
    expect(['5', '12.50', ' 7 ', '0.5', '.5', '5.', '0.00001', '100000'].map(typedDollars)).toEqual([
      { kind: 'amount', usd: 5 },
      { kind: 'amount', usd: 12.5 },
      { kind: 'amount', usd: 7 },
      { kind: 'amount', usd: 0.5 },
      { kind: 'amount', usd: 0.5 },
      { kind: 'amount', usd: 5 },
      { kind: 'amount', usd: 0.00001 },
      { kind: 'amount', usd: 100000 },
    ]);
  });

  it('reads an empty field as "no limit"', () => {
    expect(typedDollars('')).toEqual({ kind: 'empty' });
    expect(typedDollars('   ')).toEqual({ kind: 'empty' });
  });

  it('refuses what Number() would read as Infinity, or as an amount nobody typed', () => {
    const refused = ['1e400', 'Infinity', '-Infinity', '0x10', '-1', '1e3', '0', '0.00', 'abc', '$5', '5,50', '+5'];
    refused.push('9'.repeat(400)); // plain digits, but past what a number holds
    for (const t of refused) expect({ t, typed: typedDollars(t) }).toEqual({ t, typed: { kind: 'invalid' } });
  });
});
