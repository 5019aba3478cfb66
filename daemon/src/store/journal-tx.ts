// A transaction: the ops and events one unit of work commits as one journal record.
import type { ServerEvent } from '../../../shared/src/index.js';
import type { Op } from './journal-format.js';

/** A unit of work whose ops and events are committed as one record. */
export class Tx {
  ops: Op[] = [];
  events: ServerEvent[] = [];
  keys = new Set<string>();
  closed = false;
  /** Writers outside the transaction whose ops joined it (same key): resolved when it commits. */
  joined: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /** Open transactions that changed one of this one's keys first: they are appended before it. */
  after = new Set<Tx>();
  /** Work to start once the record is written (or failed): it must not delay the commit. */
  afterCommit: Array<() => void> = [];
  /** A command: stores keep what they need to undo its changes in memory if its record fails. */
  undoable = false;
  /** Run (newest first) when the record could not be written: the stores undo what it changed in memory. */
  failHooks: Array<() => void> = [];
  private undoMap: Map<string, unknown> | undefined;
  private donePromise: Promise<void> | undefined;
  private resolveDone: (() => void) | undefined;
  private settled = false;
  /** Stores keep what they need to undo here (e.g. a thread as it was before this transaction). */
  get undo(): Map<string, unknown> {
    this.undoMap ??= new Map();
    return this.undoMap;
  }
  /**
   * Settles when this transaction's record is written (or failed). Made when first asked for: most
   * transactions are waited on by no one, and each promise is a round through the promise hooks.
   */
  get done(): Promise<void> {
    this.donePromise ??= this.settled
      ? Promise.resolve()
      : new Promise<void>((r) => {
          this.resolveDone = r;
        });
    return this.donePromise;
  }
  settle(): void {
    this.settled = true;
    this.resolveDone?.();
  }
  add(op: Op): void {
    this.ops.push(op);
  }
}
