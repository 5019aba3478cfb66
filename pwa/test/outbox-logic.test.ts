import { describe, expect, it } from 'vitest';
import { entriesFor, isRetryable, nextToSend, type OutboxEntry, toCommand } from '../src/conn/outbox-logic.js';

const entry = (id: string, createdAt: number, extra: Partial<OutboxEntry> = {}): OutboxEntry => ({
  id,
  createdAt,
  type: 'thread.send',
  threadId: 't1',
  text: `msg ${id}`,
  files: [],
  uploaded: [],
  state: 'pending',
  ...extra,
});

describe('outbox rules', () => {
  it('sends the oldest pending entry first and skips failed ones', () => {
    const list = [entry('m_b', 2), entry('m_a', 1, { state: 'failed' }), entry('m_c', 3)];
    expect(nextToSend(list)?.id).toBe('m_b');
    expect(nextToSend([entry('x', 1, { state: 'failed' })])).toBeUndefined();
  });

  it('builds the command with the stored id, so a resend is the same command', () => {
    const e = entry('m_fixed_id_1', 1, { uploaded: [{ id: 'up1', name: 'a.png' }] });
    expect(toCommand(e)).toEqual({
      id: 'm_fixed_id_1',
      type: 'thread.send',
      threadId: 't1',
      text: 'msg m_fixed_id_1',
      attachmentIds: ['up1'],
    });
    expect(toCommand(e)).toEqual(toCommand(structuredClone(e)));
    const c = toCommand(entry('m_new_thread', 1, { type: 'thread.create', threadId: undefined }));
    expect(c).toEqual({ id: 'm_new_thread', type: 'thread.create', text: 'msg m_new_thread' });
  });

  it('retries transient failures and surfaces permanent ones', () => {
    for (const c of ['offline', 'timeout', 'unavailable', 'rate_limited', 'internal'])
      expect(isRetryable(c)).toBe(true);
    for (const c of ['bad_request', 'not_found', 'forbidden', 'too_large', 'conflict'])
      expect(isRetryable(c)).toBe(false);
  });

  it('shows entries under their thread, and new-thread entries under their pending id', () => {
    const list = [
      entry('m1', 2),
      entry('m2', 1),
      entry('m3', 1, { threadId: 't2' }),
      entry('n1', 1, { type: 'thread.create', threadId: undefined }),
    ];
    expect(entriesFor(list, 't1').map((e) => e.id)).toEqual(['m2', 'm1']);
    expect(entriesFor(list, 'pending:n1').map((e) => e.id)).toEqual(['n1']);
  });
});
