// The agent's writes to threads and its events: one durable change of a thread (a journal record)
// with a thread.updated event when its summary changed, and events published in the background
// but tracked, so a stop (or a test) can wait until every one is written.
import type { ServerEvent, ThreadSummary } from '../../../shared/src/index.js';
import type { DaemonContext } from '../context.js';
import type { ThreadDoc } from '../store/threads.js';
import { type AgentRecord, agentRecord } from './records.js';

function summaryKey(s: ThreadSummary): string {
  return `${s.title}\u0000${s.state}\u0000${s.lastLine}\u0000${s.lastTaskId ?? ''}\u0000${s.lastTaskState ?? ''}\u0000${s.urgentState ?? ''}`;
}

/** Threads whose last published summary is remembered (most recent); older ones may get a repeat. */
const REMEMBERED_SUMMARIES = 256;

export class ThreadWrites {
  private pendingEmits = new Set<Promise<unknown>>();
  private lastSummary = new Map<string, string>();

  constructor(private readonly ctx: Pick<DaemonContext, 'emit' | 'log' | 'store'>) {}

  /** Publish `event`; the promise settles once it is durable and sent (never rejects). */
  emit(event: ServerEvent): Promise<unknown> {
    // One derived promise per event (not catch + finally: three, each a promise-hook round under load).
    const p: Promise<unknown> = this.ctx.emit(event).then(
      () => this.pendingEmits.delete(p),
      (err: unknown) => {
        this.pendingEmits.delete(p);
        this.ctx.log.error('could not emit an event', { kind: event.kind, err: String(err) });
      },
    );
    this.pendingEmits.add(p);
    return p;
  }

  async mutate<R>(
    threadId: string,
    change: (doc: ThreadDoc, rec: AgentRecord) => R,
  ): Promise<{ result: R; doc: ThreadDoc }> {
    const { result, summary, doc } = await this.ctx.store.threads.update(threadId, (d) => change(d, agentRecord(d)));
    const key = summaryKey(summary);
    if (this.lastSummary.get(threadId) !== key) {
      this.remember(threadId, key);
      // In a record that may yet fail (disk full): then the phones were told nothing, and the next change tells them.
      this.ctx.store.journal.current()?.failHooks.push(() => this.lastSummary.delete(threadId));
      this.emit({ kind: 'thread.updated', thread: summary });
    }
    return { result, doc };
  }

  /** A new thread's summary, about to be published by its creator (no second thread.updated for it). */
  created(thread: ThreadSummary): void {
    this.remember(thread.id, summaryKey(thread));
  }

  /** Bounded, so memory stays flat as threads pile up: a forgotten thread's next change repeats its (unchanged) summary. */
  private remember(threadId: string, key: string): void {
    this.lastSummary.delete(threadId);
    this.lastSummary.set(threadId, key);
    if (this.lastSummary.size > REMEMBERED_SUMMARIES) this.lastSummary.delete(this.lastSummary.keys().next().value!);
  }

  /** Events not yet written. */
  pending(): Array<Promise<unknown>> {
    return [...this.pendingEmits];
  }
}
