// A denial may carry the person's words for the agent (typed in the phone's message box while the
// action waited): they reach the outcome and the resolved approval; with any other decision a note
// is refused, and the approval stays waiting.

import { afterEach, expect, it } from 'vitest';
import type { ServerEvent } from '../../../shared/src/index.js';
import { ClientCommand } from '../../../shared/src/index.js';
import { Approvals } from '../../src/tools/approvals.js';
import { askToContinue } from '../../src/tools/ask-to-continue.js';

let approvals: Approvals | undefined;
afterEach(() => approvals?.stop());

function ask(events: ServerEvent[]) {
  approvals = new Approvals(
    async (e) => (events.push(e), 0),
    () => 30,
  );
  const outcome = approvals.request({
    taskId: 'task_1',
    threadId: 'thr_1',
    tool: 'shell',
    summary: 'Run rm -rf Documents',
    action: { tool: 'shell', argv: ['rm', '-rf', 'Documents'] },
    hash: 'h1',
    actionClass: 'shell:["rm","-rf","Documents"]',
    signal: new AbortController().signal,
  });
  const pending = approvals.all()[0];
  return { outcome, pending };
}

const phone = { id: 'dev_1', name: 'Phone' };

it('a denial with a note hands the note to the waiting call and to the phones', async () => {
  const events: ServerEvent[] = [];
  const { outcome, pending } = ask(events);
  const decided = approvals!.decide(pending.id, pending.hash, 'deny', phone, 'Stop, only list them');
  expect(decided).toMatchObject({ state: 'denied', note: 'Stop, only list them' });
  expect(await outcome).toEqual({ result: 'deny', by: 'Phone (dev_1)', note: 'Stop, only list them' });
  const resolved = events.find((e) => e.kind === 'approval.resolved');
  expect(resolved).toMatchObject({ approval: { state: 'denied', note: 'Stop, only list them' } });
});

it('a note with approve is refused and the approval still waits', async () => {
  const { outcome, pending } = ask([]);
  expect(() => approvals!.decide(pending.id, pending.hash, 'approve', phone, 'go ahead')).toThrow(
    /A note goes only with a denial/,
  );
  expect(approvals!.all()).toHaveLength(1);
  approvals!.decide(pending.id, pending.hash, 'approve', phone);
  expect(await outcome).toEqual({ result: 'approve', by: 'Phone (dev_1)' });
});

it('the wire command bounds the note: trimmed, not empty, at most 4,000 characters', () => {
  const base = { id: 'cmd_00000001', type: 'approval.decide', approvalId: 'apr_1', hash: 'h', decision: 'deny' };
  expect(ClientCommand.safeParse({ ...base, note: '  words  ' }).data).toMatchObject({ note: 'words' });
  expect(ClientCommand.safeParse({ ...base, note: '   ' }).success).toBe(false);
  expect(ClientCommand.safeParse({ ...base, note: 'x'.repeat(4001) }).success).toBe(false);
});

it('a note loses terminal escapes and marks that reorder text; its line breaks stay', async () => {
  const events: ServerEvent[] = [];
  const { outcome, pending } = ask(events);
  approvals!.decide(pending.id, pending.hash, 'deny', phone, '\u202Eevil\u001b[31m red\u0000\nsecond line');
  expect(await outcome).toEqual({ result: 'deny', by: 'Phone (dev_1)', note: 'evil[31m red\nsecond line' });
  expect(events.find((e) => e.kind === 'approval.resolved')).toMatchObject({
    approval: { note: 'evil[31m red\nsecond line' },
  });
});

it('"may it go on?" takes no note: refused, still waiting, so the phone sends the words as a message', async () => {
  approvals = new Approvals(
    async () => 0,
    () => 30,
  );
  const answer = askToContinue(approvals)(
    { kind: 'spend', summary: 'Used $1.35 of $1.00: continue?', details: {} } as never,
    { taskId: 'task_1', threadId: 'thr_1', signal: new AbortController().signal },
  );
  const pending = approvals.all()[0];
  expect(() => approvals!.decide(pending.id, pending.hash, 'deny', phone, 'stop and summarise instead')).toThrow(
    /takes no note\. Send your words as a message/,
  );
  expect(approvals.all()).toHaveLength(1);
  approvals.decide(pending.id, pending.hash, 'deny', phone);
  expect(await answer).toBe('stop');
});
