// A file a tainted task writes is noted in store/tainted-files before it is written: kill -9 the
// moment the file appears, and after the restart it is noted (it was not, most times: the note came
// after the write). The real daemon runs in its own process; the task reads a web search result
// (untrusted) and then writes the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeviceStore } from '../../src/store/devices.js';
import { ensureBuilt } from '../agent/build.js';
import { freePort, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';

let model: ModelServer;
let home: string;
beforeAll(async () => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
  let n = 0;
  model = await startModelServer((req) => {
    if (JSON.stringify(req.body.messages).includes('tool_result')) return reply(text('Done.'));
    const name = /write (f\d+)/.exec(JSON.stringify(req.body.messages))?.[1] ?? 'f';
    const sid = `srvtoolu_${++n}`;
    return {
      content: [
        { type: 'server', block: { type: 'server_tool_use', id: sid, name: 'web_search' }, input: { query: name } },
        {
          type: 'server',
          block: {
            type: 'web_search_tool_result',
            tool_use_id: sid,
            content: [
              { type: 'web_search_result', url: 'https://example.com/', title: 'page', encrypted_content: 'x' },
            ],
          },
        },
        toolUse('fs_write', { path: `x/${name}.txt`, content: `from the page ${name}\n` }),
      ],
      usage: { input_tokens: 10, output_tokens: 10, server_tool_use: { web_search_requests: 1 } },
    };
  });
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-taint-crash-'));
}, 180_000);
afterAll(async () => {
  await model.close();
  fs.rmSync(home, { recursive: true, force: true });
});

it('kill -9 as the file lands: after the restart it is noted as holding untrusted text', async () => {
  fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
  const { token } = await (await DeviceStore.open(path.join(home, 'store'))).add('Phone', undefined);
  const env = {
    ERRAND_HOME: home,
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'sk-test-key',
    ERRAND_MODEL: 'claude-sonnet-4-6',
  };
  const folder = path.join(home, 'workspace', 'x');
  fs.mkdirSync(folder, { recursive: true });
  const ledger = () => {
    try {
      return fs.readFileSync(path.join(home, 'store', 'tainted-files'), 'utf8');
    } catch {
      return '';
    }
  };
  let landed = 0;
  for (let i = 0; i < 4; i++) {
    const d = await spawnDaemon(env, await freePort());
    const ws = await WsTestClient.open(d.url, token);
    const target = `f${i}.txt`;
    const appeared = new Promise<void>((resolve) => {
      const watcher = fs.watch(folder, (_e, f) => {
        if (f !== target) return;
        d.child.kill('SIGKILL');
        watcher.close();
        resolve();
      });
    });
    await ws.send({ type: 'thread.create', text: `Look it up and write f${i}` });
    await Promise.race([appeared, d.exited]);
    d.child.kill('SIGKILL');
    await d.exited;
    ws.close();
    const file = path.join(fs.realpathSync(folder), target);
    if (!fs.existsSync(file)) continue;
    landed++;
    expect({ file: target, noted: ledger().includes(JSON.stringify(file)) }).toEqual({ file: target, noted: true });
  }
  expect(landed).toBeGreaterThan(0);
}, 120_000);
