// The failure limiter stays bounded whatever the flood: it used to keep every failure of the window
// (a flood at any rate grew its lists for a minute) and every address that ever failed until that
// same address came back (a scan from many addresses, IPv6 privacy addresses). The budgets still
// hold as before: the owner's valid token is never counted, only failures.
import { expect, it } from 'vitest';
import { FailureLimiter } from '../../src/server/rate-limit.js';

it('a flood from one address keeps no more failures than the budgets, and still refuses', () => {
  const limiter = new FailureLimiter(10, 50, 60_000);
  for (let i = 0; i < 100_000; i++) limiter.fail('203.0.113.7');
  expect(limiter.size()).toEqual({ addresses: 1, failures: 10 + 50 });
  expect(limiter.allowed('203.0.113.7')).toBe(false);
  // The global budget is spent too: another address is refused until the window moves on.
  expect(limiter.allowed('198.51.100.1')).toBe(false);
});

it('failures from many addresses keep a bounded number of them, forgetting the oldest first', () => {
  const limiter = new FailureLimiter(10, 1_000_000, 60_000);
  for (let i = 0; i < 20_000; i++) limiter.fail(`2001:db8::${i.toString(16)}`);
  expect(limiter.size().addresses).toBeLessThanOrEqual(4096);
  // The newest are still counted: one at its budget is refused.
  for (let k = 0; k < 9; k++) limiter.fail('2001:db8::4e1f');
  expect(limiter.allowed('2001:db8::4e1f')).toBe(false);
});

it('below the budgets attempts are allowed, and the window frees them', () => {
  let now = 1_000_000;
  const realNow = Date.now;
  Date.now = () => now;
  try {
    const limiter = new FailureLimiter(3, 50, 60_000);
    for (let i = 0; i < 3; i++) limiter.fail('192.0.2.9');
    expect(limiter.allowed('192.0.2.9')).toBe(false);
    expect(limiter.allowed('192.0.2.10')).toBe(true);
    now += 60_001;
    expect(limiter.allowed('192.0.2.9')).toBe(true);
    // Addresses whose failures are all past the window are dropped when the count is checked.
    expect(limiter.size().addresses).toBe(0);
  } finally {
    Date.now = realNow;
  }
});
