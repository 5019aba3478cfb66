// The agent's schedule tool on the real agent, store and journal, talking to the scripted model:
// a schedule exists only after the user approves it on the phone; declined, nothing is made.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SCHEDULE_TOOL, withScheduleTool } from '../../src/schedules/agent-tool.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { Approvals } from '../../src/tools/approvals.js';
import { type Harness, startHarness, testTools } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
let approvals: Approvals | undefined;

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
});

async function boot() {
  const tools = testTools(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-sched-tool-')), 'files'));
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

const weekly = {
  task: 'Remind me to send the timesheet',
  title: 'Timesheet reminder',
  when: { kind: 'cron', expr: '0 9 * * 1' },
};

it('creates the schedule only after the user approves it on the phone', async () => {
  server.push(reply(toolUse(SCHEDULE_TOOL, weekly)), reply(text('Done: every Monday at 09:00.')));
  await boot();
  const { task } = await h!.send('thread.create', { text: 'Every Monday at 9 remind me to send the timesheet' });
  const approval = (await h!.waitEvent('approval.requested', (e) => e.approval.taskId === task.id)).approval;
  expect(approval.tool).toBe(SCHEDULE_TOOL);
  expect(approval.summary).toMatch(/^Create schedule "Timesheet reminder": cron 0 9 \* \* 1 \(.+\), first run \d{4}-/);
  expect(approval.action).toMatchObject({ task: weekly.task, when: weekly.when });
  expect((await h!.waitTask(task.id, ['waiting'])).state).toBe('waiting');
  // Nothing exists before the user says yes.
  expect(h!.store.schedules.list()).toEqual([]);
  expect(server.requests[0].body.tools.map((t: { name: string }) => t.name)).toContain(SCHEDULE_TOOL);

  approvals!.decide(approval.id, approval.hash, 'approve', { id: 'dev_test', name: 'Test phone' });
  await h!.waitTask(task.id, ['done']);
  const [s] = h!.store.schedules.list();
  expect(s).toMatchObject({ title: 'Timesheet reminder', text: weekly.task, when: weekly.when, state: 'active' });
  const result = JSON.stringify(server.requests[1].body.messages.at(-1));
  expect(result).toContain(`Created schedule ${s.id}`);
});

it('declined on the phone: no schedule, and the model is told', async () => {
  server.push(reply(toolUse(SCHEDULE_TOOL, weekly)), reply(text('Understood, no reminder.')));
  await boot();
  const { task } = await h!.send('thread.create', { text: 'Every Monday remind me' });
  const approval = (await h!.waitEvent('approval.requested', (e) => e.approval.taskId === task.id)).approval;
  approvals!.decide(approval.id, approval.hash, 'deny', { id: 'dev_test', name: 'Test phone' });
  await h!.waitTask(task.id, ['done']);
  expect(h!.store.schedules.list()).toEqual([]);
  expect(JSON.stringify(server.requests[1].body.messages.at(-1))).toContain('declined');
});

it('an invalid schedule is refused before anyone is asked, with a message the model can act on', async () => {
  server.push(
    reply(toolUse(SCHEDULE_TOOL, { task: 'x', when: { kind: 'daily', time: '25:00' } })),
    reply(text('Sorry.')),
  );
  await boot();
  const { task } = await h!.send('thread.create', { text: 'Daily at 25:00' });
  await h!.waitTask(task.id, ['done']);
  expect(h!.eventsOf('approval.requested')).toEqual([]);
  expect(JSON.stringify(server.requests[1].body.messages.at(-1))).toMatch(/not valid.*HH:MM/);
});
