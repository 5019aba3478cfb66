// `errand status --json` and the start log list only origins the daemon listens on: bound to
// 127.0.0.1 (the default), [::1] is accepted as a Host (a tunnel from [::1] arrives with it) but
// nothing answers there, so it is not presented as an address. Before, both listed http://[::1]:PORT.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon | undefined;
afterEach(async () => {
  await td?.stop();
  if (td) fs.rmSync(td.home, { recursive: true, force: true });
  td = undefined;
});

/** A GET to the daemon's loopback socket with the given Host header. */
function statusWithHost(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

it('on 127.0.0.1, [::1] is not listed as an origin (status and start log), but stays an accepted Host', async () => {
  td = await startTestDaemon();
  const out: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: () => {},
    env: { ERRAND_HOME: td.home, PATH: process.env.PATH },
    interactive: false,
    confirm: async () => false,
  };
  expect(await runCli(['status', '--json'], io)).toBe(0);
  const status = JSON.parse(out.join('\n')) as { origins: string[]; listening: string[] };
  expect(status.origins).toEqual([`http://127.0.0.1:${td.port}`, `http://localhost:${td.port}`]);
  for (const o of status.origins) expect(status.listening).toContain(o);

  const started = fs
    .readFileSync(path.join(td.home, 'logs', 'daemon.log'), 'utf8')
    .split('\n')
    .find((l) => l.includes('"started"') || l.includes(' started'));
  expect(started).toBeDefined();
  expect(started).toContain(`http://127.0.0.1:${td.port}`);
  expect(started).not.toContain('[::1]');

  expect(await statusWithHost(td.port, `[::1]:${td.port}`)).toBe(200);
  expect(await statusWithHost(td.port, `evil.example:${td.port}`)).not.toBe(200);
});
