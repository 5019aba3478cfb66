// A model call retried again and again: each retry is a transient notice in the thread's items (the
// computer keeps them all); the phone shows only the latest of a run of them, not one line per retry.
import { describe, expect, it } from 'vitest';
import type { ThreadItem } from '../../shared/src/index.js';
import { withoutReplacedNotices } from '../src/state/model.js';

const notice = (id: string, taskId: string | undefined, transient = true): ThreadItem => ({
  kind: 'notice',
  id,
  ...(taskId ? { taskId } : {}),
  text: `trying again (${id})`,
  ...(transient ? { transient } : {}),
  createdAt: 1,
});
const user = (id: string, taskId: string): ThreadItem => ({ kind: 'user', id, taskId, text: 'hi', createdAt: 1 });
const ids = (items: ThreadItem[]) => withoutReplacedNotices(items).map((i) => i.id);

describe('withoutReplacedNotices', () => {
  it('keeps only the last of a run of transient notices of one task', () => {
    expect(ids([user('u', 't'), notice('n1', 't'), notice('n2', 't'), notice('n3', 't')])).toEqual(['u', 'n3']);
  });

  it('keeps a transient notice that something else follows, and notices that are not transient', () => {
    expect(ids([notice('n1', 't'), user('u', 't'), notice('n2', 't')])).toEqual(['n1', 'u', 'n2']);
    expect(ids([notice('k1', 't', false), notice('k2', 't', false), notice('n1', 't')])).toEqual(['k1', 'k2', 'n1']);
    expect(ids([notice('n1', 't'), notice('k1', 't', false)])).toEqual(['n1', 'k1']);
  });

  it("does not let one task's notice replace another's", () => {
    expect(ids([notice('a', 't1'), notice('b', 't2')])).toEqual(['a', 'b']);
  });
});
