// Threads whose title a model chose after reading untrusted content, kept after their schedule is
// deleted (the thread stays): while the schedule exists the push module finds them through it, and
// after, here. A fold of the journal: the set of thread ids.
import type { Journal } from './journal.js';

export const MODEL_NAMED_OP = 'thread.modelNamed';

export class ModelNamedThreads {
  private ids = new Set<string>();

  constructor(private readonly journal: Journal) {
    journal.register(MODEL_NAMED_OP, {
      apply: (d) => {
        for (const id of Array.isArray(d) ? d : []) if (typeof id === 'string') this.ids.add(id);
      },
      snapshot: () => [...this.ids],
      restore: (data) => {
        this.ids.clear();
        for (const id of Array.isArray(data) ? data : []) if (typeof id === 'string') this.ids.add(id);
      },
    });
  }

  has(threadId: string): boolean {
    return this.ids.has(threadId);
  }

  /** Keep these threads marked (joins the caller's record, such as the schedule's deletion). */
  add(threadIds: string[]): Promise<void> {
    const fresh = [...new Set(threadIds)].filter((id) => id && !this.ids.has(id));
    if (!fresh.length) return Promise.resolve();
    for (const id of fresh) this.ids.add(id);
    return this.journal.record({ t: MODEL_NAMED_OP, d: fresh });
  }
}
