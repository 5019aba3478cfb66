// Processes a connector's server starts do not outlive it: not when the connector stops, not when the
// daemon stops, not after the daemon is killed with -9. A server that exits while a helper it started
// still holds its stdout is seen as crashed at once (its calls end; it is restarted), not "connected".
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ConnectorConfig } from '../../src/config/schema.js';
import { freePort, killChildren, spawnDaemon } from '../helpers/cli.js';
import { type Standalone, standaloneConnectors, until } from './standalone-connectors.js';

const SERVER = path.resolve('daemon/test/connectors/lingering-kids-server.mjs');

/** Alive and not a zombie. */
const alive = (pid: number) => {
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const pidsIn = (file: string, kind?: string): number[] =>
  (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '')
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([k, p]) => p && (kind ? k === kind : k === 'server' || k === 'kid'))
    .map(([, p]) => Number(p));

let s: Standalone | undefined;
const children: ChildProcess[] = [];
const pidFiles: string[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await s?.close();
  s = undefined;
  await killChildren(children.splice(0));
  for (const f of pidFiles.splice(0))
    for (const p of pidsIn(f))
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A stdio connector running the server through a wrapper that sets its behaviour. */
function wrapped(dir: string, name: string, env: string): ConnectorConfig {
  const w = path.join(dir, `${name}.sh`);
  fs.writeFileSync(w, `#!/bin/sh\n${env} exec ${process.execPath} ${SERVER}\n`, { mode: 0o755 });
  return ConnectorConfig.parse({ name, transport: 'stdio', command: w, args: [], readOnly: true });
}

it('stopping a connector ends its server and every process it started, in a new session or not', async () => {
  s = await standaloneConnectors({ connectTimeoutMs: 10_000 });
  const pidfile = path.join(s.home, 'pids');
  pidFiles.push(pidfile);
  await s.manager.apply([wrapped(s.home, 'kids', `KIDS=1 IGNORE_EOF=1 PIDFILE=${pidfile}`)]);
  await s.manager.settled();
  expect(s.manager.get('kids')!.status).toBe('connected');
  const [server] = pidsIn(pidfile, 'server');
  const kids = await until(() => pidsIn(pidfile, 'kid').length === 2 && pidsIn(pidfile, 'kid'), 'kids started');
  expect(s.manager.get('kids')!.pid).toBe(server);
  expect([server, ...kids].map(alive)).toEqual([true, true, true]);
  await s.manager.stop();
  await until(() => ![server!, ...kids].some(alive), 'server and kids gone');
  // Nothing is noted as running any more.
  expect(fs.existsSync(path.join(s.home, 'running-connectors.json'))).toBe(false);
});

it('a server that exits while a helper holds its stdout is failed at once, and the helper is ended', async () => {
  s = await standaloneConnectors({ connectTimeoutMs: 10_000, callTimeoutMs: 60_000 });
  const pidfile = path.join(s.home, 'pids');
  pidFiles.push(pidfile);
  await s.manager.apply([wrapped(s.home, 'holder', `HOLDER=1 PIDFILE=${pidfile}`)]);
  await s.manager.settled();
  const c = s.manager.get('holder')!;
  expect(c.status).toBe('connected');
  const [helper] = await until(() => pidsIn(pidfile, 'kid').length === 1 && pidsIn(pidfile, 'kid'), 'helper started');
  const started = Date.now();
  await expect(c.call('die', {}, new AbortController().signal, 60_000)).rejects.toThrow(/closed/i);
  // Well inside the call's time limit: the exit ended it, not the timeout.
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(c.status).toBe('failed');
  expect(c.reason).toMatch(/closed the connection/);
  await until(() => !alive(helper!), 'helper gone');
});

it('after the daemon is killed with -9, and when it stops, nothing a connector server started is left', async () => {
  const home = fs.realpathSync(fs.mkdtempSync('/tmp/errand-conn-kill9-'));
  dirs.push(home);
  const pidfile = path.join(home, 'pids');
  pidFiles.push(pidfile);
  const cfg = wrapped(home, 'slow', `KIDS=1 IGNORE_EOF=1 PIDFILE=${pidfile}`);
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ shell: { sandbox: 'off' }, connectors: [cfg] }), {
    mode: 0o600,
  });
  const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: 'sk-test-key' };
  const first = await spawnDaemon(env, await freePort());
  children.push(first.child);
  const before = await until(() => pidsIn(pidfile).length === 3 && pidsIn(pidfile), 'server and kids started', 30_000);
  first.child.kill('SIGKILL');
  await first.exited;
  await until(() => !before.some(alive), 'the first server and its kids gone after kill -9', 15_000);

  const again = await spawnDaemon(env, await freePort());
  children.push(again.child);
  const second = await until(
    () => pidsIn(pidfile).length === 6 && pidsIn(pidfile).slice(3),
    'second server and kids started',
    30_000,
  );
  expect(second.every(alive)).toBe(true);
  again.child.kill('SIGTERM');
  expect((await again.exited).code).toBe(0);
  await until(() => !second.some(alive), 'the second server and its kids gone after SIGTERM', 15_000);
});
