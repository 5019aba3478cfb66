// Each run of a schedule sends the model its own conversation only. The runs share one thread (the
// person sees them all there), but resending every earlier run made each cost more than the last,
// until the conversation no longer fitted the model's context and every run failed.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, type RecordedRequest, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
const HOUR = 3_600_000;

beforeEach(async () => {
  server = await startModelServer((_req, i) => reply(text(`Report number ${i + 1}: all quiet.`)));
});
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  await h?.cleanup();
  h = undefined;
  await server.close();
});

const said = (req: RecordedRequest) =>
  (req.body.messages as Array<{ role: string; content: Array<{ type: string; text?: string }> }>).map(
    (m) => `${m.role}: ${m.content.map((b) => b.text ?? `[${b.type}]`).join(' ')}`,
  );

it("each scheduled run sends only its own conversation; a person's message in the thread still sees them all", async () => {
  const t0 = Date.parse('2027-01-11T06:00:00Z');
  h = await startHarness({ modelUrl: server.url });
  const clock = new FakeClock(t0, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  const made = (await h.send('schedule.create', {
    text: 'Check the Inbox folder for new invoices',
    when: { kind: 'every', hours: 1 },
    timeZone: 'UTC',
  } as never)) as { schedule: Schedule };
  const get = () => h!.store.schedules.get(made.schedule.id)!;

  for (let run = 1; run <= 3; run++) {
    await clock.advance(HOUR);
    const taskId = get().history.at(-1)!.taskId!;
    await h.waitTask(taskId, ['done']);
  }
  expect(server.requests).toHaveLength(3);
  for (const req of server.requests) expect(said(req)).toEqual(['user: Check the Inbox folder for new invoices']);

  // The thread keeps every run, for the person and for a message of theirs.
  const threadId = get().threadId!;
  const doc = await h.store.threads.load(threadId);
  expect(doc.tasks).toHaveLength(3);
  const { task } = (await h.send('thread.send', { threadId, text: 'Which run found something?' })) as {
    task: { id: string };
  };
  await h.waitTask(task.id, ['done']);
  expect(said(server.requests[3])).toEqual([
    'user: Check the Inbox folder for new invoices',
    'assistant: Report number 1: all quiet.',
    'user: Check the Inbox folder for new invoices',
    'assistant: Report number 2: all quiet.',
    'user: Check the Inbox folder for new invoices',
    'assistant: Report number 3: all quiet.',
    'user: Which run found something?',
  ]);
});

it('a schedule whose thread holds its share of runs starts the next run in a new thread', async () => {
  const t0 = Date.parse('2027-01-11T06:00:00Z');
  h = await startHarness({ modelUrl: server.url });
  const clock = new FakeClock(t0, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock, runsPerThread: 2 });
  const made = (await h.send('schedule.create', {
    text: 'Check the Inbox folder for new invoices',
    when: { kind: 'every', hours: 1 },
    timeZone: 'UTC',
  } as never)) as { schedule: Schedule };
  const get = () => h!.store.schedules.get(made.schedule.id)!;
  const threads: string[] = [];
  for (let run = 1; run <= 3; run++) {
    await clock.advance(HOUR);
    await h.waitTask(get().history.at(-1)!.taskId!, ['done']);
    threads.push(get().threadId!);
  }
  expect(threads[1]).toBe(threads[0]);
  expect(threads[2]).not.toBe(threads[0]);
  expect((await h.store.threads.load(threads[0])).tasks).toHaveLength(2);
  const next = await h.store.threads.load(threads[2]);
  expect(next.tasks).toHaveLength(1);
  expect(next.meta.title).toBe(get().title);
  // The run in the new thread is still accounted for in the schedule's history (recorded just after
  // its task ends).
  const deadline = Date.now() + 10_000;
  while (get().history.filter((o) => o.outcome === 'ran').length < 3 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  expect(get().history.filter((o) => o.outcome === 'ran')).toHaveLength(3);
});
