// task.undo, task.changes and task.audit answer only for tasks that exist. A made-up id is
// not_found, an id that cannot be a task's is bad_request (never `internal`), and neither stores
// nor announces anything: no changes.updated event reaches the devices for a task that is not there.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ServerEvent } from '../../../shared/src/index.js';
import { isEndedTaskState } from '../../../shared/src/task-states.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

const COMMANDS = ['task.undo', 'task.changes', 'task.audit'] as const;

/** The code the daemon answered with, or 'ok' when it replied. */
async function answer(phone: WsTestClient, type: (typeof COMMANDS)[number], taskId: string): Promise<string> {
  try {
    await phone.send({ type, taskId });
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

/** Every event the watcher got before the marker thread's own event (events arrive in order). */
async function eventsBeforeMarker(phone: WsTestClient, watcher: WsTestClient): Promise<ServerEvent[]> {
  const marker = await phone.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'marker' });
  await watcher.event('thread.updated', (e) => e.thread.id === marker.thread.id);
  const events = watcher.events().map((f) => f.event);
  return events.slice(
    0,
    events.findIndex((e) => e.kind === 'thread.updated' && e.thread.id === marker.thread.id),
  );
}

it('refuses made-up and malformed task ids without storing or announcing anything', async () => {
  const phone = await td.connect();
  const watcher = await td.connect();
  const made = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'a real task',
  });
  const realTask = made.task.id;
  // With no model configured the task ends at once; it is asked about once it has stopped.
  await phone.event('task.updated', (e) => e.task.id === realTask && isEndedTaskState(e.task.state));
  const madeUp = ['no-such-task', '__proto__', 'constructor', `${made.thread.id}.tnotthere`, 'thr_nothere.tabc'];
  const malformed = ['../../x', 'a b', '\u0000', ' ', '.hidden'];
  for (const type of COMMANDS) {
    for (const id of madeUp) expect([type, id, await answer(phone, type, id)]).toEqual([type, id, 'not_found']);
    for (const id of malformed) expect([type, id, await answer(phone, type, id)]).toEqual([type, id, 'bad_request']);
    // The real task is answered (it changed nothing, so there is nothing to undo).
    expect([type, await answer(phone, type, realTask)]).toEqual([type, 'ok']);
  }
  // No device heard of any of them (undo of a task with no changes included).
  const seen = await eventsBeforeMarker(phone, watcher);
  expect(seen.filter((e) => e.kind === 'changes.updated')).toEqual([]);
  phone.close();
  watcher.close();
});
