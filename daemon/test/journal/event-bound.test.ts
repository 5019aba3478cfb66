// Every event has a size bound: an oversize event is refused with a clear error and takes no
// sequence number (inside a command, the command fails and nothing of it is kept); what the agent
// publishes stays under it (a huge tool input shows as a bounded preview; an action too large to
// show is refused before it could ask for approval).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { INPUT_PREVIEW_BYTES } from '../../src/agent/runner.js';
import { EventLog } from '../../src/store/event-log.js';
import { EventTooLargeError, Journal, MAX_EVENT_BYTES } from '../../src/store/journal.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type ToolsHarness, textOf, toolsHarness } from '../tools/helpers.js';

const dirs: string[] = [];
let server: ModelServer | undefined;
let h: Harness | undefined;
let th: ToolsHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await th?.close();
  th = undefined;
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const notice = (t: string) => ({ kind: 'notice' as const, level: 'info' as const, text: t, at: 0 });

it('refuses an oversize event without using up a sequence number; in a transaction nothing is kept', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-journal-bound-'));
  dirs.push(dir);
  const journal = await Journal.open(dir);
  const events = new EventLog(journal);
  await journal.load();
  const first = await events.append(notice('small'));
  await expect(events.append(notice('x'.repeat(MAX_EVENT_BYTES)))).rejects.toBeInstanceOf(EventTooLargeError);
  expect(await events.append(notice('next'))).toBe(first + 1);

  await expect(
    journal.transaction(async () => {
      await journal.record({ t: 'test', d: { kept: 'no' } });
      await events.append(notice('y'.repeat(MAX_EVENT_BYTES + 1)));
    }),
  ).rejects.toBeInstanceOf(EventTooLargeError);
  expect(await events.append(notice('after'))).toBe(first + 2);
  await journal.close();
});

it("a tool call's huge input reaches the phone as a bounded preview; the model still gets all of it", async () => {
  server = await startModelServer();
  const big = 'z'.repeat(600 * 1024);
  server.push(reply(toolUse('write_file', { name: 'big.txt', text: big })), reply(text('Written.')));
  h = await startHarness({ modelUrl: server.url });
  const { thread, task } = await h.send('thread.create', { text: 'write a big file' });
  // 600 KB streamed in 7-byte deltas (~88,000 events) takes ~2 s on a quiet machine, over 15 s on a busy one.
  expect((await h.waitTask(task.id, ['done', 'failed'], 60_000)).state).toBe('done');
  expect(fs.readFileSync(path.join(h.tools.dir, 'big.txt'), 'utf8')).toHaveLength(big.length);
  const got = await h.send('thread.get', { threadId: thread.id });
  const step = got.items.find((i: { kind: string }) => i.kind === 'tool');
  expect(step.input).toMatchObject({ bytes: expect.any(Number), preview: expect.any(String) });
  expect(step.input.preview.length).toBeLessThanOrEqual(INPUT_PREVIEW_BYTES + 1);
  for (const e of h.eventsOf('item.updated')) expect(JSON.stringify(e).length).toBeLessThan(MAX_EVENT_BYTES);
}, 90_000);

it('an action too large to show for approval is refused before asking', async () => {
  th = await toolsHarness();
  const out = await th.run('shell', { argv: ['echo', 'a'.repeat(200 * 1024)] });
  expect(out.isError).toBe(true);
  expect(textOf(out)).toMatch(/too large to show for approval/);
  expect(th.events.filter((e) => e.kind === 'approval.requested')).toEqual([]);
});
