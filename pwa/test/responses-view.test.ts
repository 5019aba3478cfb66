// What a thread shows of the person's responses and of a task's end, as pure rules: a decided
// approval leaves the thread (as thread.get gives it), the message box answers only a question whose
// answer is not already on its way, a refused answer or decision whose card is gone is said in the
// thread, an interrupted task says why once, and a task stopped at a per-run limit offers Continue.
import { describe, expect, it } from 'vitest';
import type { Approval, Question, Task, ThreadItem } from '../../shared/src/index.js';
import {
  type AnswerEntry,
  type DecisionEntry,
  nextToSend,
  type OutboxEntry,
  refusedFor,
  toCommand,
} from '../src/conn/outbox-logic.js';
import { limitReached } from '../src/screens/Cards.js';
import { questionToAnswer, reasonInItems, shownApprovals } from '../src/screens/Thread.js';
import { type AppState, applySequenced, emptyDetail, emptyState } from '../src/state/model.js';

const approval = (id: string, state: Approval['state'] = 'pending'): Approval => ({
  id,
  taskId: 'k1',
  threadId: 't1',
  tool: 'shell',
  summary: 'Run echo ok',
  action: { argv: ['echo', 'ok'] },
  hash: `h-${id}`,
  createdAt: 1,
  expiresAt: 2,
  state,
});
const question = (id: string, createdAt: number): Question => ({
  id,
  taskId: 'k1',
  threadId: 't1',
  text: `Question ${id}?`,
  createdAt,
});
const answer = (questionId: string, state: AnswerEntry['state'], createdAt = 5): AnswerEntry => ({
  id: `a_${questionId}`,
  createdAt,
  type: 'task.answer',
  threadId: 't1',
  taskId: 'k1',
  questionId,
  text: 'Downloads',
  state,
  ...(state === 'failed' ? { error: 'That question was already answered.' } : {}),
});
const decision = (approvalId: string, state: DecisionEntry['state'], createdAt = 6): DecisionEntry => ({
  id: `d_${approvalId}`,
  createdAt,
  type: 'approval.decide',
  threadId: 't1',
  approvalId,
  hash: `h-${approvalId}`,
  decision: 'approve',
  summary: 'Run echo ok',
  state,
  ...(state === 'failed' ? { error: 'This approval was already expired; nothing was done.' } : {}),
});

describe('approvals in the thread', () => {
  it('a resolved approval leaves the phone state, whichever way it was resolved', () => {
    for (const state of ['approved', 'denied', 'expired'] as const) {
      let s: AppState = { ...emptyState(), details: { t1: emptyDetail() } };
      s = applySequenced(s, 1, { kind: 'approval.requested', approval: approval('ap1') });
      s = applySequenced(s, 2, { kind: 'approval.requested', approval: approval('ap2') });
      expect(Object.keys(s.details.t1.approvals)).toEqual(['ap1', 'ap2']);
      s = applySequenced(s, 3, {
        kind: 'approval.resolved',
        approval: { ...approval('ap1'), state, decidedBy: 'Phone (dev_1)' },
      });
      // What thread.get gives (pending approvals only): the other one is still waiting.
      expect(s.details.t1.approvals).toEqual({ ap2: approval('ap2') });
    }
  });

  it('shows pending approvals only (a cache from before holds decided ones too)', () => {
    const cached = { ap1: approval('ap1', 'approved'), ap2: approval('ap2'), ap3: approval('ap3', 'expired') };
    expect(shownApprovals(cached).map((a) => a.id)).toEqual(['ap2']);
    expect(shownApprovals(undefined)).toEqual([]);
  });
});

describe('responses waiting in the outbox', () => {
  it('the message box answers the oldest question whose answer is not on its way', () => {
    const questions = { q1: question('q1', 1), q2: question('q2', 2) };
    expect(questionToAnswer(questions, [])?.id).toBe('q1');
    expect(questionToAnswer(questions, [answer('q1', 'pending')])?.id).toBe('q2');
    // A refused answer leaves its question to answer again.
    expect(questionToAnswer(questions, [answer('q1', 'failed')])?.id).toBe('q1');
    expect(questionToAnswer({ q1: question('q1', 1) }, [answer('q1', 'pending')])).toBeUndefined();
  });

  it('sends answers and decisions with the id they were written with', () => {
    expect(toCommand(answer('q1', 'pending'))).toEqual({
      id: 'a_q1',
      type: 'task.answer',
      taskId: 'k1',
      questionId: 'q1',
      text: 'Downloads',
    });
    expect(toCommand(decision('ap1', 'pending'))).toEqual({
      id: 'd_ap1',
      type: 'approval.decide',
      approvalId: 'ap1',
      hash: 'h-ap1',
      decision: 'approve',
    });
  });

  it('sends in the order written: an answer before a follow-up typed after it', () => {
    const followUp: OutboxEntry = {
      id: 'm1',
      createdAt: 7,
      type: 'thread.send',
      threadId: 't1',
      text: 'And then tidy Desktop',
      files: [],
      uploaded: [],
      state: 'pending',
    };
    expect(nextToSend([followUp, answer('q1', 'pending', 5)])?.id).toBe('a_q1');
    expect(nextToSend([followUp, answer('q1', 'failed', 5)])?.id).toBe('m1');
  });

  it('says a refused answer or decision in the thread once its card is gone, not while it is shown', () => {
    const entries = [
      answer('q1', 'failed', 5),
      decision('ap1', 'failed', 6),
      answer('q2', 'pending', 7),
      { ...decision('ap2', 'failed', 8), threadId: 't2' },
    ];
    const none = { questions: new Set<string>(), approvals: new Set<string>() };
    expect(refusedFor(entries, 't1', none).map((e) => e.id)).toEqual(['a_q1', 'd_ap1']);
    const cardsShown = { questions: new Set(['q1']), approvals: new Set(['ap1']) };
    expect(refusedFor(entries, 't1', cardsShown)).toEqual([]);
  });
});

describe('how a task ended', () => {
  const task = (state: Task['state'], reason?: string): Task =>
    ({ id: 'k1', threadId: 't1', state, reason, createdAt: 1, turns: 3 }) as Task;
  const notice = (text: string): ThreadItem => ({ kind: 'notice', id: 'n1', taskId: 'k1', text, createdAt: 2 });
  const crash = 'Errand stopped unexpectedly while this task was running';

  it('an interrupted task whose notice says why does not say it again under it', () => {
    const items = [notice(`${crash}. Resume it to continue from its last checkpoint.`)];
    expect(reasonInItems(items, task('interrupted', crash))).toBe(true);
    // Another task's notice, or none: the footer says it.
    expect(reasonInItems([{ ...items[0], taskId: 'k2' } as ThreadItem], task('interrupted', crash))).toBe(false);
    expect(reasonInItems([], task('cancelled', 'Cancelled from Phone'))).toBe(false);
    expect(reasonInItems(items, task('done'))).toBe(false);
  });

  it('a task stopped at a per-run limit names the setting and is continued, not retried', () => {
    expect(limitReached('Stopped after 40 turns (limit: agent.maxTurns = 40).')).toEqual({ setting: 'agent.maxTurns' });
    expect(limitReached('Stopped after 12 minutes of work (limit: agent.maxWallMinutes = 12).')).toEqual({
      setting: 'agent.maxWallMinutes',
    });
    expect(limitReached('Stopped after 9,000 output tokens (limit: agent.maxOutputTokens = 9,000).')).toEqual({
      setting: 'agent.maxOutputTokens',
    });
    // Spending counts across runs: a retry would stop again at once, so it stays Retry.
    expect(limitReached('Stopped after spending about $1.02 (limit: agent.maxCostUsd = $1.00).')).toBeUndefined();
    expect(limitReached("Stopped after spending about $0.52 (limit: the schedule's limit per run = $0.50).")).toBe(
      undefined,
    );
    expect(limitReached('The model API refused the request (400): scripted refusal')).toBeUndefined();
    expect(limitReached(undefined)).toBeUndefined();
  });
});
