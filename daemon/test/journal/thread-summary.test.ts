// A thread's summary line for the list: the first line with something on it of the last message
// (user or assistant), or why its last task failed.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { ThreadItem } from '../../../shared/src/index.js';
import type { ThreadDoc } from '../../src/store/thread-doc.js';
import { summarize } from '../../src/store/threads.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

const doc = (items: ThreadItem[], tasks: ThreadDoc['tasks'] = []): ThreadDoc => ({
  schema: 1,
  meta: { id: 'thr_abcdefgh', title: 'T', state: 'active', createdAt: 1, updatedAt: 1 },
  items,
  tasks,
  agent: {},
});
const say = (kind: 'user' | 'assistant', text: string, id = `i-${text.length}`): ThreadItem =>
  ({ kind, id, taskId: 't', text, createdAt: 1 }) as ThreadItem;

it('the last message first line with something on it, trimmed and at most 160 characters', () => {
  expect(summarize(doc([])).lastLine).toBe('');
  expect(summarize(doc([say('user', 'Write the report')])).lastLine).toBe('Write the report');
  expect(
    summarize(doc([say('user', 'first'), say('assistant', '  \n\n   Report written: Q3.md  \nDetails')])).lastLine,
  ).toBe('Report written: Q3.md');
  expect(summarize(doc([say('assistant', `${'x'.repeat(300)}\nmore`)])).lastLine).toBe('x'.repeat(160));
  expect(summarize(doc([say('assistant', ' \n \n')])).lastLine).toBe('');
  expect(summarize(doc([say('assistant', 'no newline at all')])).lastLine).toBe('no newline at all');
  // Items other than messages (a tool step, a notice) do not count.
  const tool = {
    kind: 'tool',
    id: 'tool-1',
    taskId: 't',
    tool: 'fs_list',
    summary: 'List',
    state: 'done',
    createdAt: 1,
  };
  expect(summarize(doc([say('assistant', 'The answer'), tool as ThreadItem])).lastLine).toBe('The answer');
});

it('a failed last task shows why it failed, not the prompt it failed on', () => {
  const failed = {
    id: 'thr_abcdefgh.t1',
    threadId: 'thr_abcdefgh',
    state: 'failed',
    reason: '\nThe API key was refused.\nSet a new one with errand config.',
    messageId: 'm',
    createdAt: 1,
    turns: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
  } as ThreadDoc['tasks'][number];
  expect(summarize(doc([say('user', 'Do it')], [failed])).lastLine).toBe('The API key was refused.');
});

it('summaries carry exactly the summary fields, and all share one hidden class', () => {
  const withTask = summarize(
    doc(
      [say('user', 'Do it')],
      [{ id: 'thr_abcdefgh.t1', state: 'done', usage: {} } as unknown as ThreadDoc['tasks'][number]],
    ),
  );
  expect(withTask).toStrictEqual({
    id: 'thr_abcdefgh',
    title: 'T',
    state: 'active',
    createdAt: 1,
    updatedAt: 1,
    lastLine: 'Do it',
    lastTaskId: 'thr_abcdefgh.t1',
    lastTaskState: 'done',
    urgentState: 'done',
  });
  expect(Object.keys(summarize(doc([])))).toEqual(['id', 'title', 'state', 'createdAt', 'updatedAt', 'lastLine']);
  // A hidden class each (as a spread of the meta made) costs memory per thread and slows reads.
  const module = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'store', 'threads.js');
  const script = `
    const { summarize } = await import(${JSON.stringify(module)});
    const mk = (i) => ({ schema: 1, meta: { id: 'thr_' + i, title: 'T', state: 'active', createdAt: Date.now(), updatedAt: Date.now() },
      items: [{ kind: 'user', id: 'm', taskId: 't', text: 'hi', createdAt: 1 }], tasks: [{ id: 't' + i, state: 'done' }], agent: {} });
    const all = Array.from({ length: 500 }, (_, i) => summarize(mk(i)));
    process.stdout.write(String(all.filter((s) => %HaveSameMap(s, all[0])).length));
  `;
  const same = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  expect(Number(same)).toBe(500);
});
