// `errand logs` prints the daemon's JSON log readably, and -f follows it across rotation.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeLogsCommand } from '../../src/cli/commands/logs.js';
import { formatLogLine } from '../../src/service/logs.js';
import { createLogger } from '../../src/util/log.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-logs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { PATH: '/usr/bin:/bin', HOME: tmp },
    interactive: false,
    confirm: async () => false,
  };
  return { io: value, out, err };
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('errand logs', () => {
  it('formats a JSON line readably and strips terminal escapes', () => {
    const { text, level } = formatLogLine(
      JSON.stringify({
        t: '2026-01-02T03:04:05.000Z',
        level: 'warn',
        msg: 'device \u001b[31mred\u001b[0m',
        device: 'my phone',
        n: 3,
      }),
    );
    expect(level).toBe('warn');
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WARN {2}device red {2}device="my phone" n=3$/);
    expect(formatLogLine('plain text\u0007').text).toBe('plain text');
  });

  it('shows the last lines and filters by level; secrets are already redacted', async () => {
    const home = path.join(tmp, 'h1');
    const log = createLogger({ dir: path.join(home, 'logs') });
    for (let i = 1; i <= 10; i++) log.info(`line ${i}`);
    log.warn('pairing failed', { token: 'abc123secret', address: '10.0.0.2' });
    log.close();

    const t = io();
    expect(await makeLogsCommand().run({ home, values: { lines: '3' }, positionals: [] }, t.io)).toBe(0);
    expect(t.out).toHaveLength(3);
    expect(t.out[0]).toMatch(/INFO {2}line 9$/);
    expect(t.out[2]).toMatch(/WARN {2}pairing failed {2}token=\[redacted\] address=10\.0\.0\.2$/);
    expect(t.out.join('\n')).not.toContain('abc123secret');

    const w = io();
    expect(await makeLogsCommand().run({ home, values: { level: 'warn' }, positionals: [] }, w.io)).toBe(0);
    expect(w.out).toHaveLength(1);

    const j = io();
    expect(await makeLogsCommand().run({ home, values: { lines: '1', json: true }, positionals: [] }, j.io)).toBe(0);
    expect(JSON.parse(j.out[0])).toMatchObject({ level: 'warn', msg: 'pairing failed' });
  });

  it('says where the log will be when there is none yet', async () => {
    const t = io();
    expect(await makeLogsCommand().run({ home: path.join(tmp, 'none'), values: {}, positionals: [] }, t.io)).toBe(1);
    expect(t.err.join('\n')).toMatch(/No log yet at .*daemon\.log.*errand start/);
  });

  it('-f follows new lines across a real 5 MB rotation without losing any', async () => {
    const home = path.join(tmp, 'h2');
    const dir = path.join(home, 'logs');
    const log = createLogger({ dir });
    log.info('before follow');
    const controller = new AbortController();
    const t = io();
    const done = makeLogsCommand({ signal: controller.signal, pollMs: 20 }).run(
      { home, values: { follow: true, lines: '1' }, positionals: [] },
      t.io,
    );
    await waitFor(() => t.out.length === 1);
    expect(t.out[0]).toMatch(/before follow$/);

    const pad = 'x'.repeat(20_000);
    const total = 300; // 300 × 20 kB ≈ 6 MB: the logger rotates daemon.log to daemon.log.1 on the way
    for (let i = 0; i < total; i++) {
      log.info(`entry ${i}`, { pad });
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 30)); // let the follower poll mid-way
    }
    log.info('after rotation');
    expect(fs.existsSync(path.join(dir, 'daemon.log.1'))).toBe(true);
    await waitFor(() => t.out.some((l) => l.endsWith('after rotation')));
    controller.abort();
    expect(await done).toBe(0);
    log.close();

    const entries = t.out
      .map((l) => /INFO {2}entry (\d+) /.exec(l)?.[1])
      .filter(Boolean)
      .map(Number);
    expect(entries).toEqual(Array.from({ length: total }, (_, i) => i));
  });
});
