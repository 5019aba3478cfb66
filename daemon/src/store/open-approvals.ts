// Approvals asked and not yet answered, as a fold of the journal. The approvals themselves wait in
// memory (tools/approvals.ts): after a kill -9 nothing would say that one asked before is no longer
// waiting, and a phone that keeps its view from events would show its card for ever. Each request
// and each answer is noted in the record of its event, so the next start knows which were left
// open and closes them (approval.resolved, expired), in one record with their notes.
// A device's decision on a tool call is noted with its answer, so in the record of the decision's
// reply: acknowledged, it stands after a crash, and the resumed run takes it for that same call
// (a denial and its words are not lost, an approval is not asked again).
import { z } from 'zod';
import { Approval, type ServerEvent } from '../../../shared/src/index.js';
import type { Journal } from './journal.js';

export const APPROVAL_OP = 'approval.open';

/** Decisions kept (the newest): far more than tasks waiting at any one time. */
const KEPT_DECISIONS = 2000;

const Decided = z.object({
  taskId: z.string(),
  callId: z.string(),
  hash: z.string(),
  actionClass: z.string(),
  outcome: z.union([
    z.object({ result: z.enum(['approve', 'allow_task']), by: z.string() }),
    z.object({ result: z.literal('deny'), by: z.string(), note: z.string().optional() }),
  ]),
});

/**
 * A device's decision on one tool call, kept durable with the decision's reply: a run resumed after
 * a crash takes it for that same call instead of asking again (tools/approvals.ts).
 */
export type KeptDecision = z.infer<typeof Decided>;

type Note = { open: Approval } | { closed: string; decided?: KeptDecision };

const isNote = (d: unknown): d is Note => {
  const n = d as { open?: unknown; closed?: unknown; decided?: unknown };
  return (
    !!n &&
    ((typeof n.closed === 'string' && (n.decided === undefined || Decided.safeParse(n.decided).success)) ||
      Approval.safeParse(n.open).success)
  );
};

const decisionKey = (taskId: string, callId: string) => `${taskId}\n${callId}`;

export class OpenApprovals {
  private open = new Map<string, Approval>();
  private decided = new Map<string, KeptDecision>();

  constructor(private readonly journal: Journal) {
    journal.register(APPROVAL_OP, {
      apply: (d) => {
        if (isNote(d)) this.keep(d);
      },
      // An array (what releases before kept decisions wrote) reads as the open approvals alone.
      snapshot: () => ({ open: [...this.open.values()], decided: [...this.decided.values()] }),
      restore: (data) => {
        this.open.clear();
        this.decided.clear();
        const { open, decided } = Array.isArray(data)
          ? { open: data, decided: [] }
          : ((data ?? {}) as { open?: unknown; decided?: unknown });
        if (Array.isArray(open)) for (const a of open) if (isNote({ open: a })) this.keep({ open: a as Approval });
        if (Array.isArray(decided))
          for (const k of decided) if (Decided.safeParse(k).success) this.remember(k as KeptDecision);
      },
    });
  }

  /** The decision a device gave on this tool call (with this exact action), if one was kept. */
  decisionFor(taskId: string, callId: string, hash: string): KeptDecision | undefined {
    const k = this.decided.get(decisionKey(taskId, callId));
    return k?.hash === hash ? k : undefined;
  }

  /** Approvals a crash left open (none once `closeLeftOpen` ran). */
  all(): Approval[] {
    return [...this.open.values()];
  }

  /**
   * Publish an approval's event with its note, in one record: asked, or answered (resolved).
   * Other events pass through as they are.
   */
  publish(event: ServerEvent, decided?: KeptDecision): Promise<number> {
    if (event.kind !== 'approval.requested' && event.kind !== 'approval.resolved') return this.journal.event(event);
    const note: Note =
      event.kind === 'approval.requested'
        ? { open: event.approval }
        : { closed: event.approval.id, ...(decided ? { decided } : {}) };
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
    else {
      this.open.delete(note.closed);
      if (note.decided) this.remember(note.decided);
    }
  }

  private remember(d: KeptDecision): void {
    const key = decisionKey(d.taskId, d.callId);
    this.decided.delete(key);
    this.decided.set(key, d);
    if (this.decided.size > KEPT_DECISIONS) this.decided.delete(this.decided.keys().next().value!);
  }
}
