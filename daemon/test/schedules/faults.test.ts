// Schedules under faults, on the real agent, store and journal with the scripted model server: a
// crash between a run's end and its schedule's record, a full disk at a tick or a settle, and a wall
// clock set forward and back. The engine's clock is injected (FakeClock).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Occurrence, Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
const MIN = 60_000;
// 10,000 input tokens on Sonnet: $0.03 per call.
const costly = { input_tokens: 10_000, output_tokens: 0 };

beforeEach(async () => {
  server = await startModelServer(() => reply(text('Inbox summary: nothing new')));
});
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  await h?.cleanup();
  h = undefined;
  await server.close();
});

async function boot(wall: number, home?: string): Promise<{ clock: FakeClock }> {
  h = await startHarness({ modelUrl: server.url, home });
  const clock = new FakeClock(wall, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  return { clock };
}

const get = (id: string): Schedule => h!.store.schedules.get(id)!;
const last = (id: string): Occurrence => get(id).history.at(-1)!;

async function create(fields: Record<string, unknown>): Promise<Schedule> {
  const r = await h!.send('schedule.create', { text: 'Summarise what landed in Inbox', ...fields } as never);
  return r.schedule as Schedule;
}

// Monday 11 January 2027, 07:00 in Paris (CET, UTC+1).
const MON_0700_PARIS = Date.parse('2027-01-11T06:00:00Z');

it('a run that ended while the schedules were not listening (a crash before its record) keeps its cost after the restart', async () => {
  // The run waits for a file (read-only tool), so it ends only when the test lets it.
  server.push(
    { content: [toolUse('wait_for', { file: 'go' })], usage: costly },
    { content: [text('Brief ready.')], usage: { input_tokens: 10, output_tokens: 5 } },
  );
  await boot(MON_0700_PARIS);
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
  const ran = await h!.send('schedule.run', { scheduleId: s.id });
  await server.waitForRequests(1);
  // The schedules stop listening, then the task ends: its "done" is written, the schedule's record
  // of it never is (as when the daemon dies between the two).
  await mod!.stop();
  mod = undefined;
  fs.writeFileSync(path.join(h!.tools.dir, 'go'), '');
  const task = await h!.waitTask(ran.taskId, ['done']);
  expect(task.costUsd).toBeGreaterThan(0.02);
  expect(last(s.id)).toMatchObject({ outcome: 'running', taskId: ran.taskId });
  expect(get(s.id).spentUsd).toBe(0);
  const home = h!.home;
  await h!.abandon();

  await boot(MON_0700_PARIS + 5 * MIN, home);
  expect(last(s.id)).toMatchObject({ outcome: 'ran', taskId: ran.taskId, costUsd: task.costUsd });
  expect(get(s.id).spentUsd).toBeCloseTo(task.costUsd, 9);
  // And again: a restart with nothing left to settle changes nothing.
  const again = h!.home;
  await mod!.stop();
  mod = undefined;
  await h!.stop();
  await boot(MON_0700_PARIS + 10 * MIN, again);
  expect(get(s.id).spentUsd).toBeCloseTo(task.costUsd, 9);
  expect(get(s.id).history).toHaveLength(1);
});
