// Refusals that say what is wrong and what to do: a frame that is no command object, text holding
// half of a surrogate pair (refused at the command, not when the model API refuses it later), a
// rename or archive of a deleted thread, and a memory name that is too long.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
let model: ModelServer;
let phone: WsTestClient;
beforeEach(async () => {
  model = await startModelServer(() => reply(text('done')));
  td = await startTestDaemon({
    config: { anthropic: { apiKey: 'sk-test-key-refusals-s26', baseUrl: model.url, model: 'claude-sonnet-4-6' } },
  });
  phone = await td.connect();
});
afterEach(async () => {
  await td.stop();
  await model.close();
});

const SHAPE = 'Send a JSON object with "type" and "id" (see docs/protocol.md).';

it('a frame that is not an object, or has no string type, is a bad_request that says what to send', async () => {
  const frames = [
    ['null', 'The frame is not a JSON object.'],
    ['[]', 'The frame is not a JSON object.'],
    ['"str"', 'The frame is not a JSON object.'],
    ['42', 'The frame is not a JSON object.'],
    ['{}', 'The frame has no "type".'],
    ['{"id":"shape-s26-01","type":42}', 'The frame has no "type".'],
  ];
  for (const [frame, what] of frames) {
    const seen = phone.frames.length;
    phone.sendRaw(frame);
    const answer = await phone.waitFor((f) => f.type === 'error' && phone.frames.indexOf(f) >= seen);
    expect(answer).toMatchObject({ code: 'bad_request', message: `${what} ${SHAPE}` });
  }
  expect(phone.frames.find((f) => f.type === 'error' && f.id === 'shape-s26-01')).toBeTruthy();
  // An object with a type the host does not know is still unknown_command, named back.
  phone.sendRaw(JSON.stringify({ id: 'shape-s26-02', type: 'launch.missiles' }));
  expect(await phone.waitFor((f) => f.type === 'error' && f.id === 'shape-s26-02')).toMatchObject({
    code: 'unknown_command',
    message: 'Unknown command type "launch.missiles".',
  });
  expect(phone.closed).toBeUndefined();
});

it('text with half of a surrogate pair is refused at the command: no thread, no task, no model request', async () => {
  // JSON escapes are the only way to send one: raw bytes that are not UTF-8 arrive as U+FFFD.
  phone.sendRaw(`{"id":"lone-s26-001","type":"thread.create","text":"hello \\ud800\\ud800 world"}`);
  const refused = await phone.waitFor((f) => f.type === 'error' && f.id === 'lone-s26-001');
  expect(refused).toMatchObject({
    code: 'bad_request',
    message: expect.stringMatching(/^Invalid "thread\.create": text holds half of a surrogate pair.*well-formed text/),
  });
  expect(await phone.send<unknown[]>({ type: 'threads.list' })).toEqual([]);
  // A whole pair (an emoji) is fine, and the same command id sent again well-formed runs (the refusal was not remembered).
  phone.sendRaw(JSON.stringify({ id: 'lone-s26-001', type: 'thread.create', text: 'hello 😀' }));
  const made = (await phone.waitFor((f) => f.type === 'reply' && f.id === 'lone-s26-001')) as {
    result: { thread: { id: string } };
  };
  const threadId = made.result.thread.id;
  // In any field, nested ones included.
  phone.sendRaw(
    JSON.stringify({ id: 'lone-s26-002', type: 'thread.send', threadId, text: 'ok' }).replace('"ok"', '"ok \\udfff"'),
  );
  expect(await phone.waitFor((f) => f.type === 'error' && f.id === 'lone-s26-002')).toMatchObject({
    code: 'bad_request',
    message: expect.stringContaining('text holds half of a surrogate pair'),
  });
  expect(model.requests.every((r) => !JSON.stringify(r.body).includes('\\ud800'))).toBe(true);
});

it('rename and archive of a deleted thread are refused like a message: restore it first', async () => {
  const made = await phone.send<{ thread: { id: string; title: string } }>({ type: 'thread.create', text: 'Plan' });
  const threadId = made.thread.id;
  await phone.send({ type: 'thread.delete', threadId });
  for (const cmd of [
    { type: 'thread.rename' as const, threadId, title: 'New name' },
    { type: 'thread.archive' as const, threadId },
  ]) {
    await expect(phone.send(cmd)).rejects.toMatchObject({
      code: 'conflict',
      message: 'This thread is deleted. Restore it first.',
    });
  }
  const all = await phone.send<Array<{ id: string; title: string; state: string }>>({
    type: 'threads.list',
    includeArchived: true,
  });
  expect(all.find((t) => t.id === threadId)).toMatchObject({ title: made.thread.title, state: 'deleted' });
  // Restored, both work again.
  await phone.send({ type: 'thread.restore', threadId });
  expect(await phone.send({ type: 'thread.rename', threadId, title: 'New name' })).toMatchObject({
    thread: { title: 'New name' },
  });
  expect(await phone.send({ type: 'thread.archive', threadId })).toMatchObject({ thread: { state: 'archived' } });
});

it('a memory name that is too long is refused saying so', async () => {
  await expect(
    phone.send({ type: 'memory.put', path: `/memories/${'a'.repeat(300)}.md`, text: 'x' }),
  ).rejects.toMatchObject({
    code: 'bad_request',
    message: expect.stringMatching(/too long \(303 bytes in UTF-8; a name holds at most 255\)\. Pick a shorter name/),
  });
});
