// A command id names one command. Sent again with the same fields (a reconnect, the phone's outbox
// after a lost reply) it gets the first reply and runs once; sent with different fields or another
// type it is refused (conflict, "send it with a new id"), and nothing runs: before, it was answered
// ok with the first command's reply, so the client believed a change was made that never was.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

const REUSED = {
  type: 'error',
  code: 'conflict',
  message: 'This id was already used for a different command; send it with a new id.',
};

type Created = { thread: { id: string; title: string } };
const answer = (c: WsTestClient, id: string, after: number) =>
  c.waitFor((f) => (f.type === 'reply' || f.type === 'error') && f.id === id && c.frames.indexOf(f) >= after);

/** Send a raw frame and wait for the answer to it (not to an earlier frame with the same id). */
async function sendRaw(c: WsTestClient, frame: Record<string, unknown>) {
  const after = c.frames.length;
  c.sendRaw(JSON.stringify(frame));
  return answer(c, frame.id as string, after);
}

it('an id reused by the same device for a different command is a conflict and runs nothing; a true resend gets the first reply', async () => {
  const { token, deviceId } = await td.pairDevice('Phone');
  const phone = await td.connect({ token });
  const id = 'shared-id-000001';
  const first = await sendRaw(phone, { id, type: 'thread.create', text: 'from the phone' });
  expect(first).toMatchObject({ type: 'reply', ok: true });

  // The same command again, also with its fields in another order and on a new socket: the first reply.
  expect(await sendRaw(phone, { id, type: 'thread.create', text: 'from the phone' })).toEqual(first);
  expect(await sendRaw(phone, { text: 'from the phone', type: 'thread.create', id })).toEqual(first);
  const again = await td.connect({ token });
  expect(await sendRaw(again, { id, type: 'thread.create', text: 'from the phone' })).toEqual(first);

  // Other fields, or another command: refused, and nothing of it happens.
  expect(await sendRaw(phone, { id, type: 'thread.create', text: 'something else' })).toEqual({ ...REUSED, id });
  expect(await sendRaw(phone, { id, type: 'device.rename', deviceId, name: 'Renamed' })).toEqual({ ...REUSED, id });
  const threads = await phone.send<Array<{ id: string }>>({ type: 'threads.list' });
  expect(threads.map((t) => t.id)).toEqual([(first as unknown as { result: Created }).result.thread.id]);
  const devices = await phone.send<Array<{ id: string; name: string }>>({ type: 'devices.list' });
  expect(devices.find((d) => d.id === deviceId)?.name).toBe('Phone');

  // A refused reuse is not remembered in place of the first: the true resend still gets the first reply.
  expect(await sendRaw(phone, { id, type: 'thread.create', text: 'from the phone' })).toEqual(first);
  // Ids stay apart between devices: another device may use the same id for its own command.
  const other = await td.connect();
  expect(await sendRaw(other, { id, type: 'thread.create', text: 'from another device' })).toMatchObject({
    type: 'reply',
    ok: true,
  });
});

it('an id reused while its first command still runs: the same command waits for the first reply, a different one is refused', async () => {
  const { token, deviceId } = await td.pairDevice('Phone');
  const phone = await td.connect({ token });
  const made = await phone.send<Created>({ type: 'thread.create', text: 'plan' });
  const id = 'racing-id-000001';
  const rename = { id, type: 'thread.rename', threadId: made.thread.id, title: 'First title' };
  const after = phone.frames.length;
  // Three frames in one go: the second and third arrive while the first is being written.
  phone.sendRaw(JSON.stringify(rename));
  phone.sendRaw(JSON.stringify({ ...rename }));
  phone.sendRaw(JSON.stringify({ id, type: 'device.rename', deviceId, name: 'Other' }));
  await expect.poll(() => phone.frames.slice(after).filter((f) => 'id' in f && f.id === id).length).toBe(3);
  const answers = phone.frames.slice(after).filter((f) => 'id' in f && f.id === id);
  expect(answers.filter((f) => f.type === 'reply')).toHaveLength(2);
  expect(answers.filter((f) => f.type === 'error')).toEqual([{ ...REUSED, id }]);
  const devices = await phone.send<Array<{ id: string; name: string }>>({ type: 'devices.list' });
  expect(devices.find((d) => d.id === deviceId)?.name).toBe('Phone');
});
