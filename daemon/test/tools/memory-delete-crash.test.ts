// kill -9 after a phone's memory delete or clear was made, before its reply was remembered: the
// phone sends the same command again after the restart and gets the answer the first run would
// have given ({} for the delete, the count of notes for the clear), not "not found" / "removed 0".
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { startPairedDaemon } from '../helpers/paired-daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];

beforeEach(async () => {
  server = await startModelServer();
  home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-memory-crash-')));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const env = (crash?: string) => ({
  ERRAND_HOME: home,
  ANTHROPIC_BASE_URL: server.url,
  ANTHROPIC_API_KEY: 'sk-test-key',
  ERRAND_MODEL: 'claude-sonnet-4-6',
  ...(crash ? { ERRAND_TEST_CRASH: crash } : {}),
});

/** Notes written before the daemon starts (the daemon that crashes has nothing else to do). */
function notes(names: string[]): void {
  const dir = path.join(home, 'memory');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const n of names) fs.writeFileSync(path.join(dir, n), `note ${n}`);
}

/** Send a command to the daemon that crashes on it: how it ended ('replied' if it did not crash). */
async function crashed(
  first: Awaited<ReturnType<typeof startPairedDaemon>>,
  cmd: Parameters<WsTestClient['send']>[0],
  id: string,
): Promise<string | null> {
  const replied = first.ws.send(cmd, id, 60_000).then(
    () => 'replied',
    () => new Promise<never>(() => undefined), // the socket closing with the daemon: its end says more
  );
  return Promise.race([replied, first.daemon.exited.then((e) => e.signal)]);
}

it('a clear cut off by kill -9 before its reply: the same command again answers with the count it removed', async () => {
  notes(['a.md', 'b.md', 'c.md']);
  const first = await startPairedDaemon(env('after-memory-delete'), { children, clients });
  expect(await crashed(first, { type: 'memory.clear' }, 'cmd_clear_crash')).toBe('SIGKILL');
  expect(fs.readdirSync(path.join(home, 'memory'))).toEqual([]);

  const again = await startPairedDaemon(env(), { children, clients }, { token: first.token });
  expect(await again.ws.send({ type: 'memory.clear' }, 'cmd_clear_crash')).toEqual({ removed: 3 });
}, 120_000);

it('a delete cut off by kill -9 before its reply: the same command again answers {}', async () => {
  notes(['keep.md', 'gone.md']);
  const first = await startPairedDaemon(env('after-memory-delete'), { children, clients });
  expect(await crashed(first, { type: 'memory.delete', path: '/memories/gone.md' }, 'cmd_delete_crash')).toBe(
    'SIGKILL',
  );
  expect(fs.readdirSync(path.join(home, 'memory'))).toEqual(['keep.md']);

  const again = await startPairedDaemon(env(), { children, clients }, { token: first.token });
  expect(await again.ws.send({ type: 'memory.delete', path: '/memories/gone.md' }, 'cmd_delete_crash')).toEqual({});
}, 120_000);
