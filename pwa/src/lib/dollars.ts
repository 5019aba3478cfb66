// A dollar amount typed into a limit field (a spending cap, the per-task limit, a schedule's limit per
// run). Only plain decimals count: Number() also reads "1e400" and long runs of digits as Infinity,
// which JSON sends as null, and null tells the computer to REMOVE the limit; "0x10" and "1e3" are
// not what a person means by an amount either.

/** What a limit field holds: nothing (no limit), an amount, or something that is not an amount. */
export type TypedDollars = { kind: 'empty' } | { kind: 'amount'; usd: number } | { kind: 'invalid' };

const PLAIN_DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** How to fill a limit field, for the error that refuses what was typed. */
export const DOLLARS_HINT = 'an amount in dollars above zero, in digits such as 5 or 12.50';

export function typedDollars(text: string): TypedDollars {
  const t = text.trim();
  if (t === '') return { kind: 'empty' };
  const usd = PLAIN_DECIMAL.test(t) ? Number(t) : Number.NaN;
  return Number.isFinite(usd) && usd > 0 ? { kind: 'amount', usd } : { kind: 'invalid' };
}
