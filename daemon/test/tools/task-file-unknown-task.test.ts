// A link from any web page can open the paired app on a made-up task and path
// (#thread=…&task=…&file=… or diff=…). task.file and task.diff read nothing for a task that does not exist, and their
// refusal does not repeat the link's words; for a real task it still shows a file in the folders.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';

let td: TestDaemon | undefined;
let model: ModelServer | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  td = model = undefined;
});

it('a made-up task gets not_found (no file, no diff, as no such task); a real one still gets the file', async () => {
  model = await startModelServer();
  model.push(reply(text('Done.')));
  td = await startTestDaemon({
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
  });
  const workspace = path.join(td.home, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const file = path.join(workspace, 'pin.txt');
  fs.writeFileSync(file, 'bank PIN 4321');
  const phone = await td.connect();

  const words = 'Your computer: security check failed. Re-pair at evil.example now';
  const madeUp = 'thr_AAAAAAAAAAAAAAAA.tBBBBBBBBBBBBB';
  for (const [type, p] of [
    ['task.file', file],
    ['task.file', `/${words}`],
    ['task.diff', file],
    ['task.diff', `/${words}`],
  ] as const) {
    const err = await phone.send({ type, taskId: madeUp, path: p }).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(err, type).toMatchObject({ code: 'not_found', message: expect.stringContaining('There is no such task') });
    expect(err!.message).not.toContain('4321');
    expect(err!.message).not.toContain('evil.example');
  }

  const { task } = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'hello' });
  await phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  const shown = await phone.send<{ file: { text?: string } }>({ type: 'task.file', taskId: task.id, path: file });
  expect(shown.file.text).toBe('bank PIN 4321');
});
