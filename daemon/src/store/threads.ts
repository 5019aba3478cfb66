// Threads: a fold of the journal, kept in memory. A change is made to the document in memory and
// recorded as a delta (what changed, never the whole thread) in the journal; inside a command the
// delta joins the command's record, otherwise it is a record of its own. Start-up rebuilds every
// thread from the latest snapshot and the journal tail.
import crypto from 'node:crypto';
import {
  isActiveTaskState,
  mostUrgentState,
  type Task,
  type TaskState,
  type ThreadSummary,
} from '../../../shared/src/index.js';
import { randomId } from '../util/random-id.js';
import { ColdParts } from './cold-parts.js';
import type { Fold, Journal } from './journal.js';
import type { SnapshotPart } from './snapshot-file.js';
import { applyDelta, diffThread, shadowOf, type ThreadDelta } from './thread-delta.js';
import type { ThreadDoc } from './thread-doc.js';

export type { ThreadDoc } from './thread-doc.js';
export { ThreadDocSchema, ThreadMeta } from './thread-doc.js';

export const THREAD_ID = /^thr_[A-Za-z0-9_-]{6,40}$/;

/** The first line with something on it, trimmed, at most 160 characters (without splitting all the text). */
function firstLine(text: string): string {
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end).trim();
    if (line) return line.slice(0, 160);
    if (end < 0) break;
    start = end + 1;
  }
  return '';
}

export function summarize(doc: ThreadDoc): ThreadSummary {
  const last = doc.items.findLast((i) => i.kind === 'assistant' || i.kind === 'user');
  const task = doc.tasks.at(-1);
  // A failed task: the list shows why (what to do next), not the prompt it failed on.
  const lastLine =
    task?.state === 'failed' && task.reason
      ? firstLine(task.reason)
      : last && 'text' in last
        ? firstLine(last.text)
        : '';
  // Field by field, in one order, so that every summary shares one shape: a spread of the meta gave
  // each its own hidden class (~300 bytes more per thread, and slower to read).
  const { meta } = doc;
  const summary: ThreadSummary = {
    id: meta.id,
    title: meta.title,
    state: meta.state,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
    lastLine,
  };
  if (task) {
    summary.lastTaskId = task.id;
    summary.lastTaskState = task.state;
    summary.urgentState = mostUrgentState(
      doc.tasks.map((t) => t.state),
      task.state,
    );
  }
  return summary;
}

/**
 * A copy deep enough to undo a command: items and messages are replaced, never changed in place, so
 * copies of the arrays do; tasks and per-task agent records are changed in place, so they are copied.
 */
function copyForUndo(doc: ThreadDoc): ThreadDoc {
  const agent = doc.agent as { messages?: unknown[]; tasks?: Record<string, object> };
  return {
    schema: doc.schema,
    meta: { ...doc.meta },
    items: [...doc.items],
    tasks: doc.tasks.map((t) => ({ ...t, usage: { ...t.usage } })),
    agent: {
      ...doc.agent,
      ...(agent.messages ? { messages: [...agent.messages] } : {}),
      ...(agent.tasks ? { tasks: Object.fromEntries(Object.entries(agent.tasks).map(([k, v]) => [k, { ...v }])) } : {}),
    },
  };
}

export const THREAD_OP = 'thread';
export const HOST_OP = 'host';

/** What the snapshot keeps beside each thread's part, so start-up parses no thread it does not use. */
interface ThreadIndexEntry {
  id: string;
  summary: ThreadSummary;
  /** Its tasks in brief (recovery looks for unfinished ones; spending sums their costs). */
  tasks: TaskBrief[];
}

/** What start-up needs of a task without parsing its thread. */
export type TaskBrief = Pick<Task, 'id' | 'state' | 'costUsd' | 'createdAt' | 'startedAt'>;

const brief = (t: Task): TaskBrief => ({
  id: t.id,
  state: t.state,
  costUsd: t.costUsd,
  createdAt: t.createdAt,
  ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
});

/** Parsed threads with no task under way kept in memory; older ones move to the cold file. */
const KEEP_PARSED = 32;

export class ThreadStore {
  private docs = new Map<string, ThreadDoc>();
  /**
   * Threads not in memory: restored from a snapshot and not used since, or moved out when finished
   * (the cold file). Their place on disk, read on first use.
   */
  private raw = new Map<string, SnapshotPart>();
  private cold: ColdParts;
  /** Parsed threads with no active task, least recently used first (candidates to move out). */
  private quiet = new Set<string>();
  private evictScheduled = false;
  private evictions = 0;
  private rawTasks = new Map<string, TaskBrief[]>();
  private summaries = new Map<string, ThreadSummary>();
  private shadows = new Map<string, ReturnType<typeof shadowOf>>();
  private host = '';

  constructor(private readonly journal: Journal) {
    this.cold = new ColdParts(journal.dir);
    const threads: Fold = {
      apply: (d) => {
        const delta = d as ThreadDelta;
        if (delta.create) {
          this.forgetRaw(delta.id);
          this.docs.set(delta.id, structuredClone(delta.create));
        } else {
          const doc = this.doc(delta.id);
          if (doc) applyDelta(doc, delta);
        }
        this.summaries.delete(delta.id);
        this.shadows.delete(delta.id);
        this.touched(delta.id);
      },
      snapshot: () => [...this.ids()].map((id) => this.doc(id)),
      restore: (data) => {
        for (const doc of data as ThreadDoc[]) {
          this.docs.set(doc.meta.id, doc);
          this.touched(doc.meta.id);
        }
      },
      snapshotParts: () => this.snapshotParts(),
      restoreParts: (head, parts) => {
        const index = (head as { index: ThreadIndexEntry[] }).index;
        if (index.length !== parts.length) throw new Error('the thread index does not match the threads');
        index.forEach((e, i) => {
          this.raw.set(e.id, parts[i]);
          // One string per id: the summary and the briefs share the index's (thousands of threads).
          if (e.summary.id === e.id) e.summary.id = e.id;
          const last = Array.isArray(e.tasks) ? e.tasks.at(-1) : undefined;
          if (last && e.summary.lastTaskId === last.id) e.summary.lastTaskId = last.id;
          this.summaries.set(e.id, e.summary);
          if (Array.isArray(e.tasks)) this.rawTasks.set(e.id, e.tasks);
          else this.doc(e.id); // an index without briefs: parse it now
        });
      },
    };
    journal.register(THREAD_OP, threads);
    journal.register(HOST_OP, {
      apply: (d) => {
        this.host = (d as { hostId: string }).hostId;
      },
      snapshot: () => ({ hostId: this.host }),
      restore: (d) => {
        this.host = (d as { hostId: string }).hostId;
      },
    });
  }

  /** The thread, parsed from its snapshot text on first use. */
  private doc(id: string): ThreadDoc | undefined {
    const doc = this.docs.get(id);
    if (doc) return doc;
    const part = this.raw.get(id);
    if (part === undefined) return undefined;
    const parsed = JSON.parse(part.read()) as ThreadDoc;
    this.forgetRaw(id);
    this.docs.set(id, parsed);
    this.touched(id);
    return parsed;
  }

  /** A thread was used or changed: it is the most recently used, and a candidate to move out if idle. */
  private touched(id: string): void {
    const doc = this.docs.get(id);
    this.quiet.delete(id);
    if (!doc || doc.tasks.some((t) => isActiveTaskState(t.state))) return;
    this.quiet.add(id);
    if (this.quiet.size > KEEP_PARSED && !this.evictScheduled) {
      // Not now: the caller may be iterating the maps or holding the document until its next await.
      this.evictScheduled = true;
      setImmediate(() => this.evictIdle());
    }
  }

  /** Move the least recently used idle threads out of memory, down to KEEP_PARSED. */
  private evictIdle(): void {
    this.evictScheduled = false;
    const leaving: Array<{ id: string; doc: ThreadDoc }> = [];
    for (const id of this.quiet) {
      if (this.quiet.size <= KEEP_PARSED) break;
      this.quiet.delete(id);
      const doc = this.docs.get(id);
      // A thread whose last record failed keeps its memory (its next record holds all of it).
      if (!doc || this.needsFull.has(id) || doc.tasks.some((t) => isActiveTaskState(t.state))) continue;
      if (this.summaryOf(id)) leaving.push({ id, doc });
    }
    if (!leaving.length) return;
    // One write for all of them: each is a system call otherwise, one per finished task under load.
    const parts = this.cold.putAll(leaving.map((l) => l.doc));
    leaving.forEach(({ id, doc }, i) => {
      const part = parts[i];
      if (!part) return;
      this.docs.delete(id);
      this.shadows.delete(id);
      this.raw.set(id, part);
      this.rawTasks.set(id, doc.tasks.map(brief));
      this.evictions++;
    });
    if (this.evictions >= 256) {
      this.evictions = 0;
      this.cold.compactIfSparse(this.raw.values());
    }
  }

  /** Threads held parsed in memory now (the rest are read from disk when used). */
  parsedCount(): number {
    return this.docs.size;
  }

  /** Close the cold file (after the journal is closed). */
  close(): void {
    this.cold.close();
  }

  private forgetRaw(id: string): void {
    this.raw.delete(id);
    this.rawTasks.delete(id);
  }

  /** Each thread as one part (threads never used since the last snapshot are written as they were read). */
  private snapshotParts(): { head: { index: ThreadIndexEntry[] }; parts: Array<string | SnapshotPart> } {
    const index: ThreadIndexEntry[] = [];
    const parts: Array<string | SnapshotPart> = [];
    for (const id of this.ids()) {
      const part = this.raw.get(id);
      const doc = part === undefined ? this.docs.get(id)! : undefined;
      const tasks = doc ? doc.tasks.map(brief) : (this.rawTasks.get(id) ?? []);
      index.push({ id, summary: this.summaryOf(id)!, tasks });
      parts.push(part ?? JSON.stringify(doc));
    }
    return { head: { index }, parts };
  }

  private *ids(): Iterable<string> {
    yield* this.docs.keys();
    yield* this.raw.keys();
  }

  /** Ids of threads with a task in one of these states (threads not yet parsed are judged by the index). */
  withTasksIn(states: ReadonlySet<TaskState>): string[] {
    const out: string[] = [];
    for (const [id, doc] of this.docs) if (doc.tasks.some((t) => states.has(t.state))) out.push(id);
    for (const [id, list] of this.rawTasks) if (list.some((t) => states.has(t.state))) out.push(id);
    return out;
  }

  /** Every task of every thread, in brief (threads not yet parsed are read from the index). */
  *taskBriefs(): Iterable<TaskBrief> {
    for (const doc of this.docs.values()) yield* doc.tasks;
    for (const list of this.rawTasks.values()) yield* list;
  }

  /** After load: give a new home its host id. */
  async ready(): Promise<void> {
    if (!this.host) {
      this.host = `host_${crypto.randomBytes(9).toString('base64url')}`;
      await this.journal.record({ t: HOST_OP, d: { hostId: this.host } });
    }
  }

  get hostId(): string {
    return this.host;
  }

  /** For the migration: put a whole thread as read from an older store. */
  adopt(doc: ThreadDoc): void {
    this.forgetRaw(doc.meta.id);
    this.docs.set(doc.meta.id, doc);
    this.touched(doc.meta.id);
  }
  adoptHost(hostId: string): void {
    this.host = hostId;
  }

  private summaryOf(id: string): ThreadSummary | undefined {
    let s = this.summaries.get(id);
    if (!s) {
      const doc = this.doc(id);
      if (!doc) return undefined;
      s = summarize(doc);
      this.summaries.set(id, s);
    }
    return s;
  }

  list(includeArchived = false): ThreadSummary[] {
    const out: ThreadSummary[] = [];
    for (const id of this.ids()) {
      const s = this.summaryOf(id)!;
      if (includeArchived || s.state === 'active') out.push(s);
    }
    return out.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  summary(id: string): ThreadSummary | undefined {
    return this.summaryOf(id);
  }
  has(id: string): boolean {
    return this.docs.has(id) || this.raw.has(id);
  }

  /** The thread in memory, if there is one (no copy: do not change it outside update). */
  peek(id: string): ThreadDoc | undefined {
    return this.doc(id);
  }

  async load(id: string): Promise<ThreadDoc> {
    const doc = this.doc(id);
    if (!doc) throw new Error(`no thread ${id}`);
    return doc;
  }

  /** Threads whose last record failed (disk full): their next record holds the whole thread. */
  private needsFull = new Set<string>();

  /**
   * Inside a transaction, keep the thread as it was before the transaction's first change to it,
   * so a record that cannot be written (disk full) leaves memory as the journal has it.
   */
  private keepUndo(id: string): void {
    const tx = this.journal.current();
    const key = `thread:${id}`;
    if (!tx?.undoable || tx.undo.has(key)) return;
    const before = this.doc(id);
    tx.undo.set(key, before ? copyForUndo(before) : null);
    tx.failHooks.push(() => {
      const doc = tx.undo.get(key) as ThreadDoc | null;
      if (doc) {
        this.forgetRaw(id);
        this.docs.set(id, doc);
        this.shadows.set(id, shadowOf(doc));
      } else {
        this.forgetRaw(id);
        this.docs.delete(id);
        this.shadows.delete(id);
      }
      this.summaries.delete(id);
    });
  }

  private async recordDelta(id: string, delta: ThreadDelta): Promise<void> {
    const doc = this.doc(id);
    if (this.needsFull.has(id) && doc) {
      delta = { id, create: structuredClone(doc) };
      this.needsFull.delete(id);
    }
    const tx = this.journal.current();
    if (tx) tx.failHooks.push(() => this.needsFull.add(id));
    try {
      await this.journal.record({ t: THREAD_OP, d: delta }, id);
    } catch (err) {
      // Memory is ahead of the journal now; the thread's next record carries all of it.
      this.needsFull.add(id);
      throw err;
    }
  }

  async create(title: string, fill: (doc: ThreadDoc) => void): Promise<ThreadDoc> {
    const now = Date.now();
    const id = `thr_${randomId(12)}`;
    const data: ThreadDoc = {
      schema: 1,
      meta: { id, title, state: 'active', createdAt: now, updatedAt: now },
      items: [],
      tasks: [],
      agent: {},
    };
    fill(data);
    this.keepUndo(id);
    this.docs.set(id, data);
    this.shadows.set(id, shadowOf(data));
    await this.recordDelta(id, { id, create: structuredClone(data) });
    this.touched(id);
    return data;
  }

  /**
   * Change a thread and make the change durable (inside a command: part of its record). Changes
   * are made in call order. Returns the new summary, for a thread.updated event.
   */
  async update<R>(
    id: string,
    change: (doc: ThreadDoc) => R,
  ): Promise<{ result: R; summary: ThreadSummary; doc: ThreadDoc }> {
    const doc = this.doc(id);
    if (!doc) throw new Error(`no thread ${id}`);
    let shadow = this.shadows.get(id);
    if (!shadow) {
      shadow = shadowOf(doc);
      this.shadows.set(id, shadow);
    }
    this.keepUndo(id);
    let result: R;
    try {
      result = change(doc);
    } catch (err) {
      // Whatever the change did before it threw is in memory, so it is recorded too.
      this.summaries.delete(id);
      const partial = diffThread(doc, shadow);
      if (partial) await this.recordDelta(id, partial);
      throw err;
    }
    doc.meta.updatedAt = Math.max(Date.now(), doc.meta.updatedAt);
    this.summaries.delete(id);
    const delta = diffThread(doc, shadow);
    if (delta || this.needsFull.has(id)) await this.recordDelta(id, delta ?? { id });
    this.touched(id);
    return { result, summary: this.summaryOf(id)!, doc };
  }

  async flush(): Promise<void> {
    await this.journal.settle();
  }
}
