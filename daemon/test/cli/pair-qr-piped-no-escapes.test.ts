// `errand pair` with its output going to a pipe (a script, `| cat`, a log) draws the QR code with
// plain blocks: no colour escape codes, which only a terminal understands. Before, only NO_COLOR
// turned them off, so every QR line reached the pipe wrapped in ESC[30;107m … ESC[0m.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { renderQrText } from '../../src/cli/qr.js';
import { ERRAND_BIN, freePort, killChildren, spawnDaemon } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const children: ChildProcess[] = [];
afterEach(() => killChildren(children));

it('piped `errand pair` prints the QR code and the link without any escape code', async () => {
  const env = { ERRAND_HOME: tempHome('errand-pair-piped-'), ANTHROPIC_API_KEY: '' };
  const daemon = await spawnDaemon(env, await freePort());
  children.push(daemon.child);

  // stdout is a pipe here, as in `errand pair | cat`; NO_COLOR is not set.
  const pair = spawn(process.execPath, [ERRAND_BIN, 'pair'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(pair);
  let out = '';
  pair.stdout!.on('data', (d) => (out += d));
  await expect.poll(() => out).toContain('Scan this with your phone, or open:');

  const qrLines = out.split('\n').filter((l) => /[█▀▄]/.test(l));
  expect(qrLines.length).toBeGreaterThan(10);
  expect(out).toMatch(/#pair=/);
  expect(out).not.toContain('\x1b');
});

it('the colours stay for a terminal that asks for them (drawn black on white)', () => {
  const lines = renderQrText('http://127.0.0.1:7345/#pair=abcdefgh', { color: true }).split('\n');
  expect(lines.every((l) => l.startsWith('\x1b[30;107m') && l.endsWith('\x1b[0m'))).toBe(true);
});
