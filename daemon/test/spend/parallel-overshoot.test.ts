// Many tasks side by side under a small daily cap pass it by about one call in all, also when each
// call costs far more than its request's text (the API adds web search results to the prompt): each
// call is reserved at what it may cost with its searches and their results. Cheap calls still run
// side by side and finish. The real daemon in this process with the scripted Messages API.
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import type { Approval } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, type ScriptReply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
let home: string | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  td = model = home = undefined;
});

const TASKS = 32;
const CAP_USD = 1;
const pace = () => new Promise((resolve) => setTimeout(resolve, 100));

async function boot(
  script: (req: { body: any }) => ScriptReply,
  config: { dailyUsd?: number; web?: Record<string, unknown> } = {},
): Promise<WsTestClient> {
  model = await startModelServer(async (req) => {
    await pace(); // calls take a while, so the tasks' calls overlap as real ones do
    return script(req);
  });
  home = tempHome('errand-parallel-overshoot-');
  td = await startTestDaemon({
    home,
    config: {
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
      agent: { maxCostUsd: null, maxParallelTasks: TASKS },
      spend: { dailyUsd: config.dailyUsd ?? CAP_USD },
      ...(config.web ? { web: config.web } : {}),
    },
  });
  return td.connect();
}

const startTask = async (phone: WsTestClient, text: string) =>
  (await phone.send<{ task: { id: string } }>({ type: 'thread.create', text })).task;
const startTasks = (phone: WsTestClient) =>
  Promise.all(Array.from({ length: TASKS }, (_, i) => startTask(phone, `Topic ${i}`)));

/** Waits until each of `taskIds` is done or asks whether to go on past a spending cap. */
function allDoneOrAsked(phone: WsTestClient, taskIds: string[]): Promise<unknown> {
  const ended = new Set<string>();
  return phone.waitFor((f) => {
    if (f.type === 'event' && f.event.kind === 'approval.requested') {
      const a = f.event.approval as Approval;
      if (/spending cap is reached/.test(a.summary)) ended.add(a.taskId);
    }
    if (f.type === 'event' && f.event.kind === 'task.updated' && f.event.task.state === 'done')
      ended.add(f.event.task.id);
    return taskIds.every((id) => ended.has(id));
  }, 60_000);
}

it('32 tasks whose calls read web search results pass a $1 daily cap by one call at most', async () => {
  // Each call searches once: the results make its prompt 60,000 tokens although the request is a
  // few thousand. $0.18 of input, $0.0045 of output and $0.01 for the search on Sonnet.
  const perCallUsd = (60_000 * 3 + 300 * 15) / 1_000_000 + 0.01;
  let n = 0;
  const phone = await boot(() => {
    const id = `srvtoolu_${++n}`;
    return {
      content: [
        { type: 'server', block: { type: 'server_tool_use', id, name: 'web_search' }, input: { query: 'prices' } },
        {
          type: 'server',
          block: {
            type: 'web_search_tool_result',
            tool_use_id: id,
            content: [
              { type: 'web_search_result', url: 'https://news.example/', title: 'News', encrypted_content: 'E' },
            ],
          },
        },
        toolUse('fs_list', { path: '.' }),
      ],
      usage: { input_tokens: 60_000, output_tokens: 300, server_tool_use: { web_search_requests: 1 } },
    };
  });
  const tasks = await startTasks(phone);

  // Every task stops at the cap and asks whether to go on (none is done: each call leads to another):
  // then no call is under way any more.
  await allDoneOrAsked(
    phone,
    tasks.map((t) => t.id),
  );

  const spentUsd = model!.requests.length * perCallUsd;
  expect(spentUsd).toBeGreaterThanOrEqual(CAP_USD);
  // About one call past the cap in all (the last one that went while the day's spend was under it).
  expect(spentUsd - CAP_USD).toBeLessThanOrEqual(perCallUsd + 1e-9);
  const status = await phone.send<{ spend: { todayUsd: number } }>({ type: 'status.get' });
  expect(status.spend.todayUsd).toBeCloseTo(spentUsd, 6);
}, 90_000);

it('32 tasks of cheap calls under the same cap still run side by side and all finish', async () => {
  // 1,000 input and 50 output tokens a call ($0.00375), three calls a task: $0.36 in all.
  const phone = await boot((req) =>
    req.body.messages.length < 5
      ? { content: [toolUse('fs_list', { path: '.' })], usage: { input_tokens: 1_000, output_tokens: 50 } }
      : { content: [text('Done.')], usage: { input_tokens: 1_000, output_tokens: 50 } },
  );
  const tasks = await startTasks(phone);
  const done = new Set<string>();
  await phone.waitFor((f) => {
    if (f.type === 'event' && f.event.kind === 'task.updated' && f.event.task.state === 'done')
      done.add(f.event.task.id);
    return done.size === TASKS;
  }, 60_000);
  expect(tasks.every((t) => done.has(t.id))).toBe(true);
  expect(model!.requests).toHaveLength(TASKS * 3);
  // Several calls went at once: the reservations did not make the tasks take turns.
  const overlapping = Math.max(
    ...model!.requests.map(
      (r) =>
        model!.requests.filter((o) => o.arrivedHr <= r.arrivedHr && (o.answeredHr ?? Infinity) > r.arrivedHr).length,
    ),
  );
  expect(overlapping).toBeGreaterThanOrEqual(2);
}, 90_000);

it("a call's prompt as the API reports it counts against the cap while the call is still going", async () => {
  // No web tools, and a request of a few thousand tokens: reserved at its estimate (about $0.15),
  // three such calls fit under $0.50. But the API reports 150,000 prompt tokens ($0.45) as the reply
  // starts, and from then on the call counts at that.
  const perCallUsd = (150_000 * 3 + 50 * 15) / 1_000_000;
  const phone = await boot(
    () => ({
      content: [text('A long answer, streamed slowly. '.repeat(6))],
      usage: { input_tokens: 150_000, output_tokens: 50 },
      chunkDelayMs: 60,
    }),
    { dailyUsd: 0.5, web: { search: false, fetch: false } },
  );
  const first = await startTask(phone, 'First');
  // Its reply has started (message_start came before any text): two more tasks start now.
  await phone.event('item.delta', (e) => e.taskId === first.id);
  const others = [await startTask(phone, 'Second'), await startTask(phone, 'Third')];
  await allDoneOrAsked(phone, [first.id, ...others.map((t) => t.id)]);
  // The second call waits for the first to end, then goes ($0.45 spent is under the cap); the third
  // is then asked about the cap instead of all three going at once.
  expect(model!.requests).toHaveLength(2);
  expect(model!.requests.length * perCallUsd - 0.5).toBeLessThanOrEqual(perCallUsd);
}, 60_000);
