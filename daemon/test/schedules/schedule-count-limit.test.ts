// A home keeps at most MAX_SCHEDULES schedules (each is held in memory and rewritten as it runs):
// past it, a new one is refused with a sentence saying what to do, from the phone and from the
// agent's tool alike, and creates sent together cannot pass the bound between them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MAX_SCHEDULES } from '../../../shared/src/index.js';
import { SCHEDULE_TOOL, withScheduleTool } from '../../src/schedules/agent-tool.js';
import { makeSchedule } from '../../src/schedules/commands.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { Approvals } from '../../src/tools/approvals.js';
import { type Harness, startHarness, testTools } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
let approvals: Approvals | undefined;
let filesRoot: string | undefined;

beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  approvals?.stop();
  await h?.cleanup();
  h = undefined;
  await server.close();
  if (filesRoot) fs.rmSync(filesRoot, { recursive: true, force: true });
  filesRoot = undefined;
});

async function boot() {
  filesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-sched-limit-'));
  const tools = testTools(path.join(filesRoot, 'files'));
  approvals = new Approvals(
    (e) => h!.ctx.emit(e),
    () => 30,
  );
  tools.runtime = withScheduleTool(tools.runtime, {
    approvals,
    get journal() {
      return h!.store.journal;
    },
    ops: () => mod?.ops,
  });
  h = await startHarness({ modelUrl: server.url, tools });
  mod = await startSchedules(h.ctx, h.agent);
}

/** `n` weekly schedules written straight to the store, in one record. */
async function fill(n: number) {
  await h!.store.journal.transaction(async () => {
    for (let i = 0; i < n; i++)
      await h!.store.schedules.put(
        makeSchedule({ text: `Weekly errand ${i}`, when: { kind: 'cron', expr: '0 9 * * 1' } }, Date.now()),
      );
  });
}

const create = (text: string) =>
  h!.send('schedule.create', { text, when: { kind: 'daily', time: '08:00' } } as never).then(
    () => 'made',
    (err: Error & { code?: string }) => err,
  );

it('a home full of schedules refuses another, says what to do, and takes one again once some are removed', async () => {
  await boot();
  await fill(MAX_SCHEDULES - 2);
  // Five sent together with room for two: exactly two are made.
  const results = await Promise.all(Array.from({ length: 5 }, (_, i) => create(`Together ${i}`)));
  expect(results.filter((r) => r === 'made')).toHaveLength(2);
  const refused = results.find((r) => r !== 'made') as Error & { code?: string };
  expect(refused.code).toBe('conflict');
  expect(refused.message).toMatch(/already 1,000 schedules.*Remove ones you no longer need/);
  expect(h!.store.schedules.list()).toHaveLength(MAX_SCHEDULES);

  await h!.send('schedule.delete', { scheduleId: h!.store.schedules.list()[0].id } as never);
  expect(await create('After a removal')).toBe('made');
  expect(h!.store.schedules.list()).toHaveLength(MAX_SCHEDULES);
});

it("the agent's tool is refused before the user is asked to approve a schedule that could not be kept", async () => {
  server.push(
    reply(toolUse(SCHEDULE_TOOL, { task: 'Remind me', when: { kind: 'cron', expr: '0 9 * * 1' } })),
    reply(text('Too many schedules.')),
  );
  await boot();
  await fill(MAX_SCHEDULES);
  const { task } = await h!.send('thread.create', { text: 'Every Monday remind me' });
  await h!.waitTask(task.id, ['done']);
  expect(h!.eventsOf('approval.requested')).toEqual([]);
  expect(h!.store.schedules.list()).toHaveLength(MAX_SCHEDULES);
  expect(JSON.stringify(server.requests[1].body.messages.at(-1))).toMatch(
    /No schedule was created: there are already 1000 schedules/,
  );
});
