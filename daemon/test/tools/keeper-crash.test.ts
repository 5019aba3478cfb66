// Without the sandbox, what an approved command leaves running dies with the daemon: `errand start`
// killed with -9 mid-command takes the command and a process that dropped its marker and left the
// group with it, at once, not at the next start.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Approval } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { freePort, killChildren, pairWithCli, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, toolUse } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 120_000);

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];
const leftovers: string[] = [];

/** Live processes running `sleep <secs>` (a zombie counts as gone). */
const sleepers = (secs: string): number[] =>
  fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        return (
          fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\u0000${secs}\u0000` &&
          stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
        );
      } catch {
        return false;
      }
    })
    .map(Number);

/** Bounded; generous, since a loaded 2-core machine (a full test run) slows the keeper's polling. */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

beforeEach(async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-keeper-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  for (const secs of leftovers.splice(0)) for (const pid of sleepers(secs)) process.kill(pid, 'SIGKILL');
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const pair = (env: Record<string, string>, url: string) => pairWithCli(env, url, 'Keeper test phone', children);

it.skipIf(process.platform !== 'linux')(
  'kill -9 of the daemon mid-command (no sandbox): the command and what it detached die with it',
  async () => {
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ shell: { sandbox: 'off' } }), { mode: 0o600 });
    const env = {
      ERRAND_HOME: home,
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: 'sk-test-key',
      ERRAND_MODEL: 'claude-sonnet-4-6',
    };
    const unique = () => `${500 + Math.floor(Math.random() * 1e6) / 1e3}`;
    const [detached, main] = [unique(), unique()];
    leftovers.push(detached, main);
    const script = `env -u ERRAND_CALL setsid sleep ${detached} </dev/null >/dev/null 2>&1 & sleep ${main}`;
    server.push(reply(toolUse('shell', { argv: ['bash', '-c', script] })), { kind: 'hang' });

    const daemon = await spawnDaemon(env, await freePort());
    children.push(daemon.child);
    const ws = await WsTestClient.open(daemon.url, await pair(env, daemon.url));
    clients.push(ws);
    const { task } = await ws.send<{ task: { id: string } }>({ type: 'thread.create', text: 'run it' });
    const requested = await ws.event('approval.requested', (e) => e.approval.taskId === task.id, 20_000);
    const approval: Approval = requested.approval;
    await ws.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' });
    await until(() => sleepers(detached).length === 1 && sleepers(main).length === 1, 'the command to be running');

    daemon.child.kill('SIGKILL');
    expect((await daemon.exited).signal).toBe('SIGKILL');
    await until(() => sleepers(detached).length + sleepers(main).length === 0, 'the leftovers to die with the daemon');
  },
  90_000,
);
