// "Run now" on a missed run (catch-up rule "ask") while a spending cap is reached: refused as
// schedule.run is (forbidden, with the cap's sentence, which the phone shows), and the question
// stays open, so the run can still be asked for once the cap is raised. The real agent, store,
// spend module and journal; the schedule engine's clock is injected.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { startSpend } from '../../src/spend/index.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
let stopSpend: (() => Promise<void>) | undefined;

beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  await stopSpend?.();
  stopSpend = undefined;
  await h?.cleanup();
  h = undefined;
  await server.close();
});

const MIN = 60_000;

it('a missed run asked for while the cap is reached is refused with the cap, and can be asked for again', async () => {
  // 10,000 input tokens on Sonnet: $0.03, past the $0.02 daily cap.
  server.push({ content: [text('Expensive answer.')], usage: { input_tokens: 10_000, output_tokens: 0 } });
  h = await startHarness({ modelUrl: server.url, config: { spend: { dailyUsd: 0.02 } } as never });
  const spend = h.add(startSpend(h.ctx, h.agent));
  stopSpend = () => spend.stop();
  const { task } = await h.send('thread.create', { text: 'Think hard' });
  await h.waitTask(task.id, ['done']);
  await h.agent.idle();

  const clock = new FakeClock(Date.now(), async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  const { schedule } = (await h.send('schedule.create', {
    text: 'Hourly check',
    when: { kind: 'every', hours: 1 },
    timeZone: 'UTC',
    catchUp: 'ask',
  })) as { schedule: Schedule };
  // The computer sleeps across the run's time: on waking, the missed run is asked about.
  clock.sleep(61 * MIN);
  await clock.advance(MIN);
  const asked = h.store.schedules.get(schedule.id)!.history.at(-1)!;
  expect(asked).toMatchObject({ outcome: 'missed', ask: 'open' });

  await expect(
    h.send('schedule.decide', { scheduleId: schedule.id, occurrenceId: asked.id, decision: 'run' }),
  ).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^Today's spending cap is reached/) });
  // Nothing used up: the question is still open, and nothing ran.
  expect(h.store.schedules.get(schedule.id)!.history.at(-1)).toMatchObject({
    id: asked.id,
    outcome: 'missed',
    ask: 'open',
  });
  expect(server.requests).toHaveLength(1);

  // Raised: the same question now runs the missed occurrence.
  (h.config as { spend: { dailyUsd?: number } }).spend.dailyUsd = 1;
  server.push(reply(text('Checked.')));
  const decided = (
    await h.send('schedule.decide', { scheduleId: schedule.id, occurrenceId: asked.id, decision: 'run' })
  ).schedule as Schedule;
  const ran = decided.history.at(-1)!;
  expect(ran).toMatchObject({ id: asked.id, ask: 'run', late: true });
  expect(ran.taskId).toBeDefined();
  await h.waitTask(ran.taskId!, ['done']);
});
