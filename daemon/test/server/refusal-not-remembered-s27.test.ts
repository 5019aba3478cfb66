// A refusal that changed nothing is not remembered under its command id. The phone's Retry sends a
// refused message again with the same id: the host answered the first refusal for ever (also after
// a restart), so a message refused while its thread was deleted could never be sent once the
// thread was restored. A command that did something is still remembered and never runs twice.
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

type Created = { thread: { id: string }; task: { id: string } };

it('a message refused while its thread was deleted is sent by the same id once the thread is restored', async () => {
  model = await startModelServer(() => reply(text('Done.')));
  td = await startTestDaemon({ env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url } });
  const phone = await td.connect();
  const { thread, task } = await phone.send<Created>({ type: 'thread.create', text: 'first' });
  await phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  await phone.send({ type: 'thread.delete', threadId: thread.id });
  const message = { type: 'thread.send', threadId: thread.id, text: 'second' } as const;
  const refused = await phone.send(message, 'retry-me-0001').then(
    () => undefined,
    (e: Error & { code: string }) => e,
  );
  expect(refused?.code).toBe('conflict');
  await phone.send({ type: 'thread.restore', threadId: thread.id });
  const sent = await phone.send<{ task: { id: string } }>(message, 'retry-me-0001');
  expect(sent.task.id).toBeTruthy();
  // Now it did something: the same id again is the remembered reply, not a second message.
  expect(await phone.send(message, 'retry-me-0001')).toEqual(sent);
  const detail = await phone.send<{ items: Array<{ kind: string; text?: string }> }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  expect(detail.items.filter((i) => i.kind === 'user' && i.text === 'second')).toHaveLength(1);
});
