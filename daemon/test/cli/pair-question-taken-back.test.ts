// A pairing session (`errand pair`, and `errand start`'s first-run code) whose phone stops waiting
// while "Approve this device?" is open takes the question back (its signal aborts) and says what
// happened and what to run; an answer given anyway decides nothing.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { runPairSession } from '../../src/cli/pair-session.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('the phone stops waiting: the open question is taken back, and the session says to run `errand pair`', async () => {
  const out: string[] = [];
  const err: string[] = [];
  let asked: AbortSignal | undefined;
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: {},
    interactive: true,
    // A terminal that can take a question back: it ends when the session aborts it.
    confirm: (_question: string, takeBack?: AbortSignal) =>
      new Promise<boolean>((_resolve, reject) => {
        asked = takeBack;
        takeBack?.addEventListener('abort', () => reject(new Error('taken back')), { once: true });
      }),
  };
  let code = '';
  const exit = runPairSession(io, td.home, {
    as: 'pair',
    autoApprove: false,
    json: false,
    showCode: (p) => {
      code = p.code;
    },
  });
  await until('the code is shown', () => code !== '');

  const phone = new AbortController();
  const claimed = fetch(`${td.url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name: 'Pixel' }),
    signal: phone.signal,
  }).catch(() => 'gave up');
  await until('the claim is asked about', () => asked !== undefined);
  expect(asked!.aborted).toBe(false);
  phone.abort();
  expect(await claimed).toBe('gave up');

  expect(await exit).toBe(1);
  expect(asked!.aborted).toBe(true);
  expect(err.join('\n')).toBe(
    'errand pair: The phone stopped waiting before the pairing was approved. Run `errand pair` again.',
  );
  expect(out.join('\n')).toContain('"Pixel" from');
  expect(td.daemon.ctx.store.devices.list()).toEqual([]);
});
