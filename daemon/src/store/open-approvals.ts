// Approvals asked and not yet answered, as a fold of the journal. The approvals themselves wait in
// memory (tools/approvals.ts): after a kill -9 nothing would say that one asked before is no longer
// waiting, and a phone that keeps its view from events would show its card for ever. Each request
// and each answer is noted in the record of its event, so the next start knows which were left
// open and closes them (approval.resolved, expired), in one record with their notes.
import { Approval, type ServerEvent } from '../../../shared/src/index.js';
import type { Journal } from './journal.js';

export const APPROVAL_OP = 'approval.open';

type Note = { open: Approval } | { closed: string };

const isNote = (d: unknown): d is Note => {
  const n = d as { open?: unknown; closed?: unknown };
  return !!n && (typeof n.closed === 'string' || Approval.safeParse(n.open).success);
};

export class OpenApprovals {
  private open = new Map<string, Approval>();

  constructor(private readonly journal: Journal) {
    journal.register(APPROVAL_OP, {
      apply: (d) => {
        if (isNote(d)) this.keep(d);
      },
      snapshot: () => [...this.open.values()],
      restore: (data) => {
        this.open.clear();
        if (Array.isArray(data)) for (const a of data) if (isNote({ open: a })) this.keep({ open: a as Approval });
      },
    });
  }

  /** Approvals a crash left open (none once `closeLeftOpen` ran). */
  all(): Approval[] {
    return [...this.open.values()];
  }

  /**
   * Publish an approval's event with its note, in one record: asked, or answered (resolved).
   * Other events pass through as they are.
   */
  publish(event: ServerEvent): Promise<number> {
    if (event.kind !== 'approval.requested' && event.kind !== 'approval.resolved') return this.journal.event(event);
    const note: Note = event.kind === 'approval.requested' ? { open: event.approval } : { closed: event.approval.id };
    return this.journal.transaction(async () => {
      this.keep(note);
      await this.journal.record({ t: APPROVAL_OP, d: note });
      return this.journal.event(event);
    });
  }

  /** At start, before any task runs: every approval a crash left waiting is closed as expired. */
  async closeLeftOpen(): Promise<number> {
    const left = this.all();
    if (!left.length) return 0;
    await this.journal.transaction(async () => {
      for (const a of left) {
        const note: Note = { closed: a.id };
        this.keep(note);
        await this.journal.record({ t: APPROVAL_OP, d: note });
        await this.journal.event({ kind: 'approval.resolved', approval: { ...a, state: 'expired' } });
      }
    });
    return left.length;
  }

  private keep(note: Note): void {
    if ('open' in note) this.open.set(note.open.id, note.open);
    else this.open.delete(note.closed);
  }
}
