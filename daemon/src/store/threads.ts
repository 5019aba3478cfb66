// Threads, sharded: one durable file per thread (its history and tasks) plus a small index of
// summaries. A write touches one thread's file, so its cost does not grow with the total history.
// The index is a cache derived from the thread files: it is written coalesced, and rebuilt for any
// thread file newer than it at start-up.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Low } from 'lowdb';
import { z } from 'zod';
import { Task, ThreadItem, ThreadState, ThreadSummary } from '../../../shared/src/index.js';
import { openDoc, zodValidator } from './doc.js';

export const ThreadMeta = z.object({
  id: z.string(),
  title: z.string(),
  state: ThreadState,
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type ThreadMeta = z.infer<typeof ThreadMeta>;

const ThreadDocSchema = z.object({
  schema: z.literal(1),
  meta: ThreadMeta,
  items: z.array(ThreadItem),
  tasks: z.array(Task),
  /** State private to the agent (conversation in the Messages API format, checkpoints). */
  agent: z.record(z.string(), z.unknown()),
});
export type ThreadDoc = z.infer<typeof ThreadDocSchema>;

const IndexDoc = z.object({
  schema: z.literal(1),
  hostId: z.string(),
  writtenAt: z.number(),
  threads: z.record(z.string(), ThreadSummary),
});
type IndexDoc = z.infer<typeof IndexDoc>;

const INDEX_DELAY_MS = 250;
const CACHE_LIMIT = 64;
const ID_PATTERN = /^thr_[A-Za-z0-9_-]{6,40}$/;

export function summarize(doc: ThreadDoc): ThreadSummary {
  const last = [...doc.items].reverse().find((i) => i.kind === 'assistant' || i.kind === 'user');
  const lastLine =
    last && 'text' in last ? (last.text.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 160) : '';
  const task = doc.tasks.at(-1);
  return {
    ...doc.meta,
    lastLine,
    ...(task ? { lastTaskId: task.id, lastTaskState: task.state } : {}),
  };
}

export class ThreadStore {
  private docs = new Map<string, Low<ThreadDoc>>();
  private locks = new Map<string, Promise<unknown>>();
  private indexTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly dir: string,
    private readonly index: Low<IndexDoc>,
  ) {}

  static async open(storeDir: string): Promise<ThreadStore> {
    const dir = path.join(storeDir, 'threads');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const index = await openDoc<IndexDoc>({
      file: path.join(storeDir, 'index.json'),
      version: 1,
      validate: zodValidator(IndexDoc),
      initial: () => ({
        schema: 1,
        hostId: `host_${crypto.randomBytes(9).toString('base64url')}`,
        writtenAt: 0,
        threads: {},
      }),
    });
    const store = new ThreadStore(dir, index);
    await store.reconcile();
    return store;
  }

  get hostId(): string {
    return this.index.data.hostId;
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** Bring the index up to date with thread files written after it (a crash between the two). */
  private async reconcile(): Promise<void> {
    const writtenAt = this.index.data.writtenAt;
    let changed = this.index.data.writtenAt === 0;
    for (const name of await fs.readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      if (!ID_PATTERN.test(id)) continue;
      const stat = await fs.stat(this.fileOf(id));
      if (this.index.data.threads[id] && stat.mtimeMs < writtenAt - 1000) continue;
      const doc = await this.load(id);
      this.index.data.threads[id] = summarize(doc);
      changed = true;
    }
    if (changed) await this.writeIndex();
  }

  list(includeArchived = false): ThreadSummary[] {
    return Object.values(this.index.data.threads)
      .filter((t) => includeArchived || t.state === 'active')
      .sort((a, b) => b.updatedAt - a.updatedAt);
  }

  summary(id: string): ThreadSummary | undefined {
    return this.index.data.threads[id];
  }
  has(id: string): boolean {
    return ID_PATTERN.test(id) && id in this.index.data.threads;
  }

  async load(id: string): Promise<ThreadDoc> {
    if (!ID_PATTERN.test(id)) throw new Error(`invalid thread id ${id}`);
    let db = this.docs.get(id);
    if (!db) {
      db = await openDoc<ThreadDoc>({
        file: this.fileOf(id),
        version: 1,
        validate: zodValidator(ThreadDocSchema),
        initial: () => ({
          schema: 1,
          meta: { id, title: '', state: 'active', createdAt: 0, updatedAt: 0 },
          items: [],
          tasks: [],
          agent: {},
        }),
        mustExist: true,
      });
      this.docs.set(id, db);
      this.evict();
    } else {
      // Refresh recency.
      this.docs.delete(id);
      this.docs.set(id, db);
    }
    return db.data;
  }

  private evict(): void {
    for (const id of this.docs.keys()) {
      if (this.docs.size <= CACHE_LIMIT) break;
      if (!this.locks.has(id)) this.docs.delete(id);
    }
  }

  async create(title: string, fill: (doc: ThreadDoc) => void): Promise<ThreadDoc> {
    const now = Date.now();
    const id = `thr_${crypto.randomBytes(12).toString('base64url')}`;
    const data: ThreadDoc = {
      schema: 1,
      meta: { id, title, state: 'active', createdAt: now, updatedAt: now },
      items: [],
      tasks: [],
      agent: {},
    };
    fill(data);
    const db = await openDoc<ThreadDoc>({
      file: this.fileOf(id),
      version: 1,
      validate: zodValidator(ThreadDocSchema),
      initial: () => data,
    });
    db.data = data;
    await db.write();
    this.docs.set(id, db);
    this.evict();
    this.index.data.threads[id] = summarize(data);
    this.scheduleIndex();
    return data;
  }

  /**
   * Change a thread and make the change durable. Updates of one thread run one at a time, in order.
   * Returns the new summary, for a thread.updated event.
   */
  async update<R>(
    id: string,
    change: (doc: ThreadDoc) => R,
  ): Promise<{ result: R; summary: ThreadSummary; doc: ThreadDoc }> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev
      .catch(() => undefined)
      .then(async () => {
        await this.load(id);
        const db = this.docs.get(id)!;
        const result = change(db.data);
        db.data.meta.updatedAt = Math.max(Date.now(), db.data.meta.updatedAt);
        await db.write();
        const summary = summarize(db.data);
        this.index.data.threads[id] = summary;
        this.scheduleIndex();
        return { result, summary, doc: db.data };
      });
    this.locks.set(id, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === run) this.locks.delete(id);
    }
  }

  private scheduleIndex(): void {
    if (this.indexTimer) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      void this.writeIndex().catch(() => undefined);
    }, INDEX_DELAY_MS);
  }

  private async writeIndex(): Promise<void> {
    this.index.data.writtenAt = Date.now();
    await this.index.write();
  }

  async flush(): Promise<void> {
    if (this.indexTimer) {
      clearTimeout(this.indexTimer);
      this.indexTimer = undefined;
    }
    await Promise.allSettled([...this.locks.values()]);
    await this.writeIndex();
  }
}
