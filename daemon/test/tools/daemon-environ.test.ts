// No secret stays in the daemon's environment after start: a command run without the sandbox runs
// as the same user and could read /proc/<daemon pid>/environ. The daemon still uses the API key it
// read, also after a configuration reload.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { freePort, killChildren, pairWithCli, runErrand, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 120_000);

let server: ModelServer;
let base: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];

beforeEach(async () => {
  server = await startModelServer();
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-environ-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  await server.close();
  fs.rmSync(base, { recursive: true, force: true });
});

const pair = (env: Record<string, string>, url: string) => pairWithCli(env, url, 'Environ test phone', children);

/** The API key a model request carried (x-api-key or a bearer token). */
const keyOf = (i: number): string | undefined => {
  const h = server.requests[i].headers;
  return (h['x-api-key'] as string | undefined) ?? h.authorization?.replace(/^Bearer /, '');
};

it.skipIf(process.platform !== 'linux')(
  '/proc/<daemon pid>/environ holds no secret after start; the API key still reaches the model, also after a reload',
  async () => {
    const home = path.join(base, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ shell: { sandbox: 'off' } }), { mode: 0o600 });
    const secrets = {
      ANTHROPIC_API_KEY: 'sk-ant-environ-test-5f2c9a1b7e',
      GITHUB_TOKEN: 'ghp_environtest0987654321abcdef',
      DB_PASSWORD: 'hunter2-environ-test',
    };
    const env = { ERRAND_HOME: home, ANTHROPIC_BASE_URL: server.url, ERRAND_MODEL: 'claude-sonnet-4-6', ...secrets };
    const daemon = await spawnDaemon(env, await freePort());
    children.push(daemon.child);

    const environ = fs.readFileSync(`/proc/${daemon.child.pid}/environ`, 'latin1');
    for (const [name, value] of Object.entries(secrets)) {
      expect(environ).not.toContain(value);
      expect(environ).not.toContain(`${name}=`);
    }
    expect(environ).toContain(`ERRAND_HOME=${home}`);

    const token = await pair(env, daemon.url);
    const ws = await WsTestClient.open(daemon.url, token);
    clients.push(ws);
    server.push(reply(text('First answer.')));
    const { thread, task } = await ws.send<{ thread: { id: string }; task: { id: string } }>({
      type: 'thread.create',
      text: 'hello',
    });
    await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
    expect(keyOf(0)).toBe(secrets.ANTHROPIC_API_KEY);

    // A configuration reload reads the environment again: the key it read at start is still there.
    const project = path.join(base, 'project');
    fs.mkdirSync(project);
    const allow = await runErrand(['allow', project], { ERRAND_HOME: home });
    expect(allow.code, allow.stderr).toBe(0);
    server.push(reply(text('Second answer.')));
    const second = await ws.send<{ task: { id: string } }>({ type: 'thread.send', threadId: thread.id, text: 'again' });
    await ws.event('task.updated', (e) => e.task.id === second.task.id && e.task.state === 'done', 20_000);
    expect(keyOf(1)).toBe(secrets.ANTHROPIC_API_KEY);
    expect(fs.readFileSync(`/proc/${daemon.child.pid}/environ`, 'latin1')).not.toContain(secrets.ANTHROPIC_API_KEY);

    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  },
  90_000,
);
