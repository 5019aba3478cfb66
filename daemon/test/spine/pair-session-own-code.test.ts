// A pairing session (`errand pair`) answers only for the code it showed. Cancelled (Ctrl-C), its
// code stops working at once, so a phone that opens it is told to run `errand pair` instead of
// waiting minutes for an approval nobody can give; another running `errand pair --yes` never approves
// a claim on a code it did not show; and a session whose code a newer `errand pair` replaced says so.
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { pairCommand } from '../../src/cli/commands/pair.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
const sockets: net.Socket[] = [];
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await td.stop();
});

const post = (p: string, body: unknown) =>
  fetch(`${td.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** `errand pair --yes` as the CLI speaks it on the control socket; `cancel()` is its Ctrl-C. */
async function rawPairSession(): Promise<{ code: string; lines: unknown[]; cancel: () => void }> {
  const socket = net.createConnection(path.join(td.home, 'control.sock'));
  sockets.push(socket);
  const lines: unknown[] = [];
  let buffer = '';
  const code = await new Promise<string>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (d) => {
      buffer += d.toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const msg = JSON.parse(buffer.slice(0, nl)) as { progress?: { type: string; code?: string } };
        buffer = buffer.slice(nl + 1);
        lines.push(msg);
        if (msg.progress?.type === 'code') resolve(msg.progress.code!);
      }
    });
    socket.write(`${JSON.stringify({ id: 1, method: 'pair.start', params: { autoApprove: true } })}\n`);
  });
  return { code, lines, cancel: () => socket.destroy() };
}

/** `errand pair --yes --json` run in this process against the test daemon. */
function cliPairSession() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: {},
    interactive: false,
    confirm: async () => false,
  };
  const exit = pairCommand.run({ home: td.home, values: { yes: true, json: true }, positionals: [] }, io);
  return { out, err, exit };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it("a cancelled session's code is refused at once, and the older `errand pair --yes` neither approves it nor goes on silently", async () => {
  const a = cliPairSession();
  await until('session A shows its code', () => a.out.length > 0);
  const b = await rawPairSession();
  // B replaced A's code: A ends and says why, rather than showing a dead QR code.
  expect(await a.exit).toBe(1);
  expect(a.err.join('\n')).toMatch(/replaced by a newer `errand pair`/);

  b.cancel();
  // The phone opening B's link hears at once that the code cannot be used.
  await until("B's code is withdrawn", async () => (await post('/api/pair/peek', { code: b.code })).status === 404);
  const claim = await post('/api/pair/claim', { code: b.code, name: 'Stranger' });
  expect(claim.status).toBe(404);
  expect(await claim.json()).toMatchObject({ error: 'code_invalid' });
  expect(td.daemon.ctx.store.devices.list()).toEqual([]);
  expect(a.out.join('\n')).not.toContain('Stranger');
});

it('a lone cancelled session leaves no code a phone would wait on', async () => {
  const c = await rawPairSession();
  expect((await post('/api/pair/peek', { code: c.code })).status).toBe(200);
  c.cancel();
  await until("C's code is withdrawn", async () => (await post('/api/pair/peek', { code: c.code })).status === 404);
  // The claim is answered straight away, not after the 3-minute wait for an approval.
  const claim = await post('/api/pair/claim', { code: c.code, name: 'Lone' });
  expect(claim.status).toBe(404);
});

it('a session approves claims on its own code only', async () => {
  const a = await rawPairSession();
  // A code minted elsewhere (the first-start QR of `errand start`) is not A's to approve.
  const { code: other } = td.mintPairCode();
  const claimOther = post('/api/pair/claim', { code: other, name: 'Not mine' });
  // The claim waits for a decision nobody in A's session makes; let it be declined from here.
  await until('the claim is pending', () => td.daemon.pairing.pendingClaims().length === 1);
  expect(a.lines.some((l) => JSON.stringify(l).includes('Not mine'))).toBe(false);
  expect(JSON.stringify(a.lines.at(-1))).toMatch(/replaced by a newer `errand pair`/);
  td.daemon.pairing.decide(td.daemon.pairing.pendingClaims()[0].id, false);
  expect((await claimOther).status).toBe(403);
  expect(td.daemon.ctx.store.devices.list()).toEqual([]);

  // A session with its own code still pairs.
  const b = await rawPairSession();
  const mine = await post('/api/pair/claim', { code: b.code, name: 'Mine' });
  expect(mine.status).toBe(200);
  await until('B reports the pairing', () => b.lines.some((l) => JSON.stringify(l).includes('"paired"')));
  expect(td.daemon.ctx.store.devices.list().map((d) => d.name)).toEqual(['Mine']);
});
