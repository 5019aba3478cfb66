// One reply of many large reads: more than the whole context window in one turn. The daemon cuts
// that turn's results down to what fits (each keeps its beginning and says how to read less), so the
// task goes on and the model gets them; a follow-up in the thread works too. It fails only when what
// is never shortened (the person's own words) is too large by itself.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { estimateTokens, fitContext } from '../../src/agent/context-window.js';
import type { WireMessage } from '../../src/agent/wire.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let server: ModelServer | undefined;
let td: TestDaemon | undefined;
afterEach(async () => {
  await td?.stop();
  await server?.close();
  td = server = undefined;
});

const CONTEXT = 40_000;
const MAX_TOKENS = 4096;
const CUT =
  /\[output shortened to fit the context window: the first \d+ of \d+ chars are above\. Read a smaller part \(fs_read with offset and limit/;

type Body = { messages: Array<{ role: string; content: Array<Record<string, any>> }> };
const resultsOf = (body: Body) =>
  body.messages.flatMap((m) => m.content.filter((b) => b.type === 'tool_result')) as Array<{
    tool_use_id: string;
    content: Array<{ type: string; text: string }>;
  }>;

it('cuts the newest turn of many large reads down to the window, so the task and a follow-up go on', async () => {
  server = await startModelServer();
  td = await startTestDaemon({
    config: {
      shell: { sandbox: 'off' },
      anthropic: {
        apiKey: 'sk-test-key-abcdef123',
        baseUrl: server.url,
        model: 'claude-sonnet-4-6',
        contextTokens: CONTEXT,
        maxTokens: MAX_TOKENS,
        thinking: { enabled: false },
      },
    },
  });
  const phone = await td.connect();
  const ws = fs.realpathSync(path.join(td.home, 'workspace'));
  // Six files of 500 long lines; each read below is one full fs_read page (~60 KB, ~15k tokens).
  for (let f = 0; f < 6; f++)
    fs.writeFileSync(
      path.join(ws, `big${f}.txt`),
      Array.from({ length: 500 }, (_, l) => `file ${f} line ${l + 1} ${'x'.repeat(1500)}`).join('\n'),
    );
  // Twelve reads at different offsets (the runaway watch lets distinct reads run): ~180k tokens.
  const calls = Array.from({ length: 12 }, (_, i) =>
    toolUse('fs_read', { path: `big${i % 6}.txt`, offset: 1 + i, limit: 400 }, `toolu_read_${i}`),
  );
  server.push(reply(text('Reading them all.'), ...calls), reply(text('Read them.')), reply(text('One line.')));

  const created = await phone.send<any>({ type: 'thread.create', text: 'read it all' });
  const first = await phone.event(
    'task.updated',
    (e: any) => e.task.id === created.task.id && ['done', 'failed'].includes(e.task.state),
    60_000,
  );
  expect((first as any).task.reason).toBeUndefined();
  expect((first as any).task.state).toBe('done');
  expect(server.requests).toHaveLength(2);

  // The model got every result, each cut with the marker, keeping its beginning; within the window.
  const second = server.requests[1].body as Body;
  expect(estimateTokens(second as never)).toBeLessThanOrEqual(CONTEXT - MAX_TOKENS);
  const results = resultsOf(second);
  expect(results.map((r) => r.tool_use_id)).toEqual(calls.map((_, i) => `toolu_read_${i}`));
  for (const [i, r] of results.entries()) {
    // The file's untrusted-output mark stays its own first block; the cut marker ends the last text.
    const t = r.content.map((c) => c.text).join('\n');
    expect(t).toMatch(CUT);
    expect(t).toContain(`file ${i % 6} line ${1 + i} `);
    // A useful share of each, not just a few words.
    expect(t.length).toBeGreaterThan(2_000);
  }

  // A follow-up in the same thread reaches the model too.
  const sent = await phone.send<any>({
    type: 'thread.send',
    threadId: created.thread.id,
    text: 'now summarize in one line',
  });
  const end = await phone.event(
    'task.updated',
    (e: any) => e.task.id === sent.task.id && ['done', 'failed'].includes(e.task.state),
    60_000,
  );
  expect((end as any).task.reason).toBeUndefined();
  expect((end as any).task.state).toBe('done');
  expect(server.requests).toHaveLength(3);
  expect(estimateTokens(server.requests[2].body)).toBeLessThanOrEqual(CONTEXT - MAX_TOKENS);
});

const result = (id: string, t: string) => ({
  type: 'tool_result' as const,
  tool_use_id: id,
  content: [{ type: 'text' as const, text: t }],
});

it('fits a follow-up after a turn stored whole (a thread from before the cut), keeping the follow-up whole', () => {
  const calls = Array.from({ length: 8 }, (_, i) => ({
    type: 'tool_use' as const,
    id: `t${i}`,
    name: 'fs_read',
    input: { i },
  }));
  const messages: WireMessage[] = [
    { role: 'user', content: [{ type: 'text', text: 'read it all' }] },
    { role: 'assistant', content: calls },
    { role: 'user', content: calls.map((c) => result(c.id, `head ${c.id} ${'y'.repeat(40_000)}`)) },
    { role: 'user', content: [{ type: 'text', text: 'now summarize in one line' }] },
  ];
  const req = { system: [{ type: 'text' as const, text: 'sys' }], tools: [], messages };
  const r = fitContext(req, 20_000);
  expect(r).toMatchObject({ fits: true, changed: true });
  expect(estimateTokens(req)).toBeLessThanOrEqual(20_000);
  const results = messages[2].content as Array<ReturnType<typeof result>>;
  for (const [i, b] of results.entries()) {
    expect(b.content[0].text.startsWith(`head t${i} yyy`)).toBe(true);
    expect(b.content[0].text).toMatch(CUT);
  }
  expect(messages[3].content).toEqual([{ type: 'text', text: 'now summarize in one line' }]);
});

it('cuts the largest newest results first and leaves small ones whole', () => {
  const messages: WireMessage[] = [
    { role: 'user', content: [{ type: 'text', text: 'go' }] },
    {
      role: 'assistant',
      content: ['a', 'b', 'c'].map((id) => ({ type: 'tool_use' as const, id, name: 'read', input: {} })),
    },
    {
      role: 'user',
      content: [result('a', 'a'.repeat(2_000)), result('b', 'b'.repeat(60_000)), result('c', 'c'.repeat(60_000))],
    },
  ];
  const req = { system: [], tools: [], messages };
  expect(fitContext(req, 10_000).fits).toBe(true);
  const [a, b, c] = messages[2].content as Array<ReturnType<typeof result>>;
  expect(a.content[0].text).toBe('a'.repeat(2_000));
  expect(b.content[0].text).toMatch(CUT);
  expect(c.content[0].text).toMatch(CUT);
});

it('still fails when the person’s own words alone are larger than the window', () => {
  const messages: WireMessage[] = [
    { role: 'user', content: [{ type: 'text', text: 'read' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'read', input: {} }] },
    { role: 'user', content: [result('t1', 'z'.repeat(50_000)), { type: 'text', text: 'w'.repeat(60_000) }] },
  ];
  const req = { system: [], tools: [], messages };
  const r = fitContext(req, 10_000);
  expect(r.fits).toBe(false);
  expect(r.tokens).toBeGreaterThan(10_000);
});
