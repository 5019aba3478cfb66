// The pairing screen names the computer for the live code whatever strangers did before: behind
// Tailscale Serve every phone and browser tab arrives from 127.0.0.1, so failures by others must not
// hide the name from the owner (SECURITY.md, "the owner always gets in"). Only other codes are
// counted and, over budget, held back with 429, as for claim.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon({ config: { hostName: 'Desk computer' } });
});
afterEach(async () => {
  await td.stop();
});

const post = (p: string, body: unknown) =>
  fetch(`${td.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A well-formed code that is not the live one (192 bits, base64url, like a real one). */
const wrongCode = (i: number) => `${'A'.repeat(30)}${String(i).padStart(2, '0')}`;

it('answers the live code after the address spent its failure budget, and holds other codes back', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await post('/api/pair/claim', { code: wrongCode(i), name: 'x' })).status);
  expect(statuses.at(-1)).toBe(429); // the address's budget is spent
  const { code } = td.mintPairCode();
  const peek = await post('/api/pair/peek', { code });
  expect(peek.status).toBe(200);
  expect(await peek.json()).toEqual({ hostName: 'Desk computer' });
  // A wrong code over budget is held back, as a claim is.
  const wrong = await post('/api/pair/peek', { code: wrongCode(99) });
  expect(wrong.status).toBe(429);
  expect(await wrong.json()).toMatchObject({ error: 'rate_limited' });
  // The peek did not use the code up.
  td.approveNextClaim();
  expect((await post('/api/pair/claim', { code, name: 'Real phone' })).status).toBe(200);
});

it('does not count peeks with the live code as failed attempts', async () => {
  const { code } = td.mintPairCode();
  for (let i = 0; i < 15; i++) expect((await post('/api/pair/peek', { code })).status).toBe(200);
  // Well under budget still: a wrong code is refused as wrong, not as too many attempts.
  const wrong = await post('/api/pair/peek', { code: wrongCode(1) });
  expect(wrong.status).toBe(404);
  expect(await wrong.json()).toMatchObject({ error: 'code_invalid' });
});
