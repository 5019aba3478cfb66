// Device tokens are stored only as hashes, yet a file the agent reads can hold one (a backup, a
// browser profile, a note). The whole daemon recognises them in tool output by their hash and
// redacts them before the output is stored, sent to a phone or sent to the model.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer;
let td: TestDaemon;

beforeAll(async () => {
  model = await startModelServer();
  td = await startTestDaemon({
    config: {
      shell: { sandbox: 'off' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
  });
});
afterAll(async () => {
  await td?.stop();
  await model?.close();
});

/** Every file under `dir` (the workspace aside) that contains `needle`. */
function filesHolding(dir: string, needle: string, skip: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (p === skip) continue;
    if (e.isDirectory()) out.push(...filesHolding(p, needle, skip));
    else if (e.isFile() && fs.readFileSync(p).includes(needle)) out.push(p);
  }
  return out;
}

it("a paired device's token in a file the agent reads is redacted from the thread, the events and the model's view", async () => {
  const { token } = await td.pairDevice('Other phone');
  const phone = await td.connect();
  const ws = path.join(td.home, 'workspace');
  // Alone on a line, and glued to other token characters.
  fs.writeFileSync(path.join(ws, 'backup.txt'), `device token: ${token}\nraw=abc${token}_42\n`);
  model.push(reply(toolUse('fs_read', { path: 'backup.txt' })), reply(text('Read it.')));
  const created = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'read backup.txt',
  });
  await phone.event('task.updated', (e) => e.task.id === created.task.id && e.task.state === 'done', 20_000);

  const toModel = JSON.stringify(model.requests[1].body.messages);
  expect(toModel).toContain('device token: [redacted]');
  expect(toModel).not.toContain(token);
  const thread = await phone.send({ type: 'thread.get', threadId: created.thread.id });
  expect(JSON.stringify(thread)).toContain('[redacted]');
  expect(JSON.stringify(thread)).not.toContain(token);
  expect(JSON.stringify(phone.events())).not.toContain(token);
  // Nothing Errand stored holds it (the file itself is the user's, in the workspace).
  expect(filesHolding(td.home, token, ws)).toEqual([]);
});
