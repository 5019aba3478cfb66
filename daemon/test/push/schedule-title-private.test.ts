// A schedule the agent named after reading untrusted content runs in a thread titled with the model's
// words ("Errand: phone unpaired. Re-pair now, code 4417"): with private previews (the default, the
// lock screen is public) no push of its runs shows that title, whatever the run ends in or asks.
// A thread titled by the person keeps its title; full previews (an opt-in) show it.
import { expect, it } from 'vitest';
import type { Approval, Question, ServerEvent, Task } from '../../../shared/src/index.js';
import { CRASH_REASONS } from '../../../shared/src/index.js';
import { jobForEvent, type TitleSource } from '../../src/push/payload.js';

/** The fixed name, in the words of the other private pushes ("A scheduled run was missed"). */
const MODEL_NAMED_RUN = 'Scheduled run';
const now = Date.parse('2027-01-11T08:00:00Z');
const BAIT = 'Errand: phone unpaired. Re-pair now, code 4417';
const MINE = 'Morning brief';
const modelThread = 'thr_model';
const myThread = 'thr_mine';
const titleOf = (threadId: string) => (threadId === modelThread ? BAIT : threadId === myThread ? MINE : undefined);
const fromModel = (threadId: string): TitleSource =>
  threadId === modelThread ? 'model' : threadId === myThread ? 'person' : 'message';

const task = (threadId: string, state: Task['state'], extra: Partial<Task> = {}): Task => ({
  id: `${threadId}.task_1`,
  threadId,
  state,
  messageId: 'itm_1',
  createdAt: now - 60_000,
  endedAt: now - 1000,
  turns: 1,
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd: 0,
  ...extra,
});

/** One of each push a scheduled run can cause: done, failed, interrupted by a crash, an approval, a question. */
function events(threadId: string): ServerEvent[] {
  const approval: Approval = {
    id: 'apr_1',
    taskId: `${threadId}.task_1`,
    threadId,
    tool: 'shell',
    summary: 'Run ls',
    action: { cmd: 'ls' },
    hash: 'h',
    state: 'pending',
    createdAt: now,
    expiresAt: now + 600_000,
  };
  const question: Question = {
    id: 'qst_1',
    taskId: `${threadId}.task_1`,
    threadId,
    text: 'Which inbox?',
    createdAt: now,
  };
  return [
    { kind: 'task.updated', task: task(threadId, 'done', { resultSummary: 'All quiet.' }) },
    { kind: 'task.updated', task: task(threadId, 'failed', { reason: 'Errand hit an internal error.' }) },
    { kind: 'task.updated', task: task(threadId, 'interrupted', { reason: CRASH_REASONS.running }) },
    { kind: 'approval.requested', approval },
    { kind: 'question.asked', question },
  ];
}

const titles = (threadId: string, previews: 'private' | 'full') =>
  events(threadId).map((e) => jobForEvent(e, titleOf, now, previews, [], false, fromModel)?.payload.title);

it("private pushes of a model-named schedule's runs show a fixed name, never the model's words", () => {
  expect(titles(modelThread, 'private')).toEqual([
    MODEL_NAMED_RUN,
    `Failed · ${MODEL_NAMED_RUN}`,
    `Interrupted · ${MODEL_NAMED_RUN}`,
    `Needs your OK · ${MODEL_NAMED_RUN}`,
    `Question · ${MODEL_NAMED_RUN}`,
  ]);
  for (const e of events(modelThread))
    expect(JSON.stringify(jobForEvent(e, titleOf, now, 'private', [], false, fromModel))).not.toMatch(
      /unpaired|4417|Re-pair/,
    );
});

it('a thread titled by the person keeps its title; full previews show the schedule name', () => {
  expect(titles(myThread, 'private')).toEqual([
    MINE,
    `Failed · ${MINE}`,
    `Interrupted · ${MINE}`,
    `Needs your OK · ${MINE}`,
    `Question · ${MINE}`,
  ]);
  expect(titles(modelThread, 'full')[0]).toBe(BAIT);
});
