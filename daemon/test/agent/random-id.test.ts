// Ids drawn from the pooled random bytes: the right length, url-safe, never repeated, across many
// refills of the pool (so a refill never hands out bytes twice).
import { expect, it } from 'vitest';
import { newItemId, newTaskId } from '../../src/agent/ids.js';
import { randomId } from '../../src/util/random-id.js';

it('hands out distinct url-safe ids of the asked size across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = randomId(9);
    expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    seen.add(id);
  }
  expect(seen.size).toBe(20_000);
  expect(randomId(12)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  expect(randomId(6)).toMatch(/^[A-Za-z0-9_-]{8}$/);
  // Not all zero bytes (a pool cleared before use would give AAAA…).
  const zeros = [...seen].filter((id) => id === 'AAAAAAAAAAAA').length;
  expect(zeros).toBe(0);
  expect(newTaskId('thr_x')).toMatch(/^thr_x\.t[A-Za-z0-9_-]{12}$/);
  expect(newItemId('msg')).toMatch(/^msg_[A-Za-z0-9_-]{12}$/);
});
