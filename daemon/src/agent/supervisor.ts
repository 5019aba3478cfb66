// The runs: the scheduler starts a queued task as a run (runner.ts) once the command that queued it
// is written; each run is a promise, so cancel, stop and idle() await runs instead of polling.
// Recovery after a stop or crash, and the clean stop, live here too.
import path from 'node:path';
import {
  ACTIVE_TASK_STATES,
  CRASH_REASONS,
  type Task,
  type TaskState,
  type ThreadItem,
} from '../../../shared/src/index.js';
import type { DaemonContext } from '../context.js';
import type { ThreadDoc } from '../store/threads.js';
import { anthropicModel } from './model.js';
import { findTask, foldSteps, newItemId } from './records.js';
import { type AgentOptions, type RunHost, TaskRun } from './runner.js';
import { Scheduler, type Slot } from './scheduler.js';
import { StepJournal, type StepRecord } from './step-journal.js';
import type { ThreadWrites } from './thread-writes.js';
import type { ToolRuntime } from './tool-runtime.js';
import type { ModelClient } from './wire.js';

const CRASH_REASON = CRASH_REASONS.running;
const CRASH_QUEUED_REASON = CRASH_REASONS.notStarted;

/** Wait for `p`, at most `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export class Supervisor {
  readonly scheduler: Scheduler;
  private readonly steps: StepJournal;
  private readonly host: RunHost;
  private runs = new Map<string, TaskRun>();
  /** Each launched task's run: settles when it ended (or turned out to have nothing to run). */
  private settled = new Map<string, Promise<void>>();
  /** Wake idle() callers waiting for a launch. */
  private launchWaiters: Array<() => void> = [];
  private clients = new Map<string, ModelClient>();
  /** Set by stop(): no new work is taken. */
  stopping = false;

  constructor(
    private readonly ctx: DaemonContext,
    tools: ToolRuntime,
    private readonly options: AgentOptions,
    private readonly writes: ThreadWrites,
  ) {
    this.steps = new StepJournal(path.join(ctx.paths.store, 'agent-steps'));
    this.scheduler = new Scheduler(
      () => ctx.config().agent.maxParallelTasks,
      (slot) => this.launch(slot),
    );
    this.host = {
      ctx,
      tools,
      scheduler: this.scheduler,
      options,
      mutate: (threadId, change) => writes.mutate(threadId, change),
      emit: (event) => writes.emit(event),
      modelFor: (apiKey, baseURL) => this.modelFor(apiKey, baseURL),
      journal: this.steps,
      spendCap: () => this.startGate?.(),
    };
  }

  private modelFor(apiKey: string, baseURL: string | undefined): ModelClient {
    const key = `${apiKey}\u0000${baseURL ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      c = this.options.modelClient
        ? this.options.modelClient({ apiKey, baseURL })
        : anthropicModel({ apiKey, baseURL });
      this.clients.set(key, c);
    }
    return c;
  }

  /** The run of `taskId` while it is going. */
  run(taskId: string): TaskRun | undefined {
    return this.runs.get(taskId);
  }
  runningTasks(): number {
    return this.runs.size;
  }
  queuedTasks(): number {
    return this.scheduler.queued().length;
  }

  private launch(slot: Slot): void {
    // A run is not part of the command that queued it: its writes are records of their own, and it
    // starts once the command's record is written (the reply does not wait for the run's first steps).
    const { journal } = this.ctx.store;
    let ended!: () => void;
    const done = new Promise<void>((resolve) => {
      ended = resolve;
    });
    this.settled.set(slot.taskId, done);
    for (const wake of this.launchWaiters.splice(0)) wake();
    journal.afterCommit(() =>
      journal.detached(() =>
        this.runTask(slot).finally(() => {
          if (this.settled.get(slot.taskId) === done) this.settled.delete(slot.taskId);
          ended();
        }),
      ),
    );
  }

  private async runTask(slot: Slot): Promise<void> {
    // Launched by a command committed just before a clean stop began (a run starts on the loop turn
    // after its command's reply): it stays queued, and runs on the next start.
    if (this.stopping) {
      this.scheduler.finished(slot);
      return;
    }
    // Cancelled (or gone with an undone command) between being queued and starting: nothing to run.
    const doc = this.ctx.store.threads.has(slot.threadId) ? this.ctx.store.threads.peek(slot.threadId) : undefined;
    const state = doc ? findTask(doc, slot.taskId)?.state : undefined;
    if (state !== 'queued') {
      this.scheduler.finished(slot);
      return;
    }
    // A spending cap reached while it waited its turn (the tasks before it spent it): it does not
    // start, and says why (Retry once the cap is raised, or tomorrow).
    const capped = this.startGate?.();
    if (capped) {
      await this.endBeforeStart(slot, capped);
      this.scheduler.finished(slot);
      return;
    }
    const run = new TaskRun(this.host, slot);
    this.runs.set(slot.taskId, run);
    await run
      .execute()
      .catch(async (err: unknown) => {
        this.ctx.log.error('task run failed', {
          taskId: slot.taskId,
          err: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        await this.writes
          .mutate(slot.threadId, (doc) => {
            const t = findTask(doc, slot.taskId);
            if (t && ACTIVE_TASK_STATES.has(t.state))
              Object.assign(t, {
                state: 'failed',
                reason: `Errand hit an internal error: ${(err as Error)?.message ?? String(err)}`,
                endedAt: Date.now(),
              });
            return t ? { ...t } : undefined;
          })
          .then(
            ({ result }) => {
              if (result) this.writes.emit({ kind: 'task.updated', task: result });
            },
            () => undefined,
          );
      })
      .finally(() => {
        this.runs.delete(slot.taskId);
        this.scheduler.finished(slot);
      });
  }

  private startGate: (() => string | undefined) | undefined;

  /** Tasks do not start while `why` returns a sentence (a daily or monthly spending cap reached). */
  setStartGate(why: () => string | undefined): void {
    this.startGate = why;
  }

  /** A queued task that will not run: failed with `reason`, in one record with its event. */
  private async endBeforeStart(slot: Slot, reason: string): Promise<void> {
    await this.writes
      .mutate(slot.threadId, (doc) => {
        const t = findTask(doc, slot.taskId);
        if (t?.state === 'queued') Object.assign(t, { state: 'failed', reason, endedAt: Date.now() });
        return t ? { ...t } : undefined;
      })
      .then(
        ({ result }) => {
          if (result) this.writes.emit({ kind: 'task.updated', task: result });
        },
        (err: unknown) => this.ctx.log.warn('could not end a task held by a spending cap', { error: String(err) }),
      );
  }

  /** Resolves when no task is running or queued and every event is written. */
  async idle(): Promise<void> {
    for (;;) {
      const waits: Promise<unknown>[] = [...this.settled.values(), ...this.writes.pending()];
      if (!waits.length && !this.scheduler.queued().length) return;
      // Queued with nothing running only while the scheduler is paused: wait for a launch.
      if (!waits.length) waits.push(new Promise<void>((r) => this.launchWaiters.push(r)));
      await Promise.allSettled(waits);
    }
  }

  /** Cancel the run of `taskId`: resolves once it ended (at most 3 s); false when it is not running. */
  async cancelRun(taskId: string, by: string | undefined): Promise<boolean> {
    const run = this.runs.get(taskId);
    if (!run) return false;
    run.cancelledBy = by;
    const ended = this.settled.get(taskId) ?? Promise.resolve();
    run.abort('cancel');
    await within(ended, 3000);
    return true;
  }

  /**
   * After a stop or crash, every task not in a final state gets an event for its recovered state,
   * in the same journal record as the change: queued tasks that never started (the user's unanswered
   * messages) run; tasks a crash cut off are interrupted; tasks a clean stop cut off resume when
   * agent.autoResume is on. Every thread is looked at (no index, no clock decides).
   */
  async recover(): Promise<void> {
    const autoResume = this.ctx.config().agent.autoResume;
    let crashed = 0;
    const resume: Slot[] = [];
    const docs: ThreadDoc[] = [];
    const unfinished = new Set<TaskState>([...ACTIVE_TASK_STATES, 'interrupted']);
    for (const id of this.ctx.store.threads.withTasksIn(unfinished)) docs.push(await this.ctx.store.threads.load(id));
    // Oldest first, so queued work runs in the order it was asked for.
    docs.sort((a, b) => a.meta.createdAt - b.meta.createdAt);
    for (const doc of docs) {
      const threadId = doc.meta.id;
      const steps = new Map<string, StepRecord[]>();
      for (const t of doc.tasks) if (ACTIVE_TASK_STATES.has(t.state)) steps.set(t.id, await this.steps.read(t.id));
      await this.ctx.store.journal.transaction(async () => {
        const { result } = await this.writes.mutate(threadId, (d, rec) => {
          const changed: Task[] = [];
          const notices: ThreadItem[] = [];
          const items: ThreadItem[] = [];
          for (const t of d.tasks) {
            const r = rec.tasks[t.id];
            const began = r?.started ?? false;
            if (t.state === 'queued' && d.meta.state !== 'deleted') {
              resume.push({ taskId: t.id, threadId });
            } else if (ACTIVE_TASK_STATES.has(t.state)) {
              items.push(...foldSteps(d, rec, t, steps.get(t.id) ?? []));
              t.state = 'interrupted';
              t.reason = began ? CRASH_REASON : CRASH_QUEUED_REASON;
              t.endedAt = Date.now();
              if (r) r.autoResume = undefined;
              if (began) {
                const n: ThreadItem = {
                  kind: 'notice',
                  id: newItemId('ntc'),
                  taskId: t.id,
                  text: `${CRASH_REASON}. Resume it to continue from its last checkpoint.`,
                  createdAt: Date.now(),
                };
                d.items.push(n);
                notices.push(n);
              }
              crashed++;
            } else if (t.state === 'interrupted' && r?.autoResume) {
              r.autoResume = undefined;
              if (autoResume && d.meta.state !== 'deleted') {
                t.state = 'queued';
                delete t.reason;
                delete t.endedAt;
                resume.push({ taskId: t.id, threadId });
              }
            }
            if (ACTIVE_TASK_STATES.has(t.state) || t.state === 'interrupted') changed.push({ ...t });
          }
          return { changed, notices, items };
        });
        for (const item of result.items) this.writes.emit({ kind: 'item.updated', threadId, item });
        for (const n of result.notices) this.writes.emit({ kind: 'item.added', threadId, item: n });
        for (const t of result.changed) this.writes.emit({ kind: 'task.updated', task: t });
      });
    }
    if (crashed) {
      const text = `${crashed === 1 ? 'A task was' : `${crashed} tasks were`} interrupted because Errand stopped unexpectedly. Open ${crashed === 1 ? 'it' : 'them'} to resume.`;
      this.writes.emit({ kind: 'notice', level: 'warning', text, at: Date.now() });
      this.ctx.log.warn(text);
    }
    await this.steps.clear();
    for (const slot of resume) this.scheduler.enqueue(slot);
    if (resume.length)
      this.ctx.log.info(`running ${resume.length} task(s) left queued or interrupted by the last stop`);
  }

  /** Stop: runs are interrupted (they resume on the next start when agent.autoResume is on). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.scheduler.pause();
    const runs = [...this.runs.values()];
    const ended = Promise.all(runs.map((run) => this.settled.get(run.taskId)));
    for (const run of runs) run.abort('shutdown');
    await within(ended, 5000);
    // Queued tasks stay queued: they are the user's unanswered messages and run on the next start.
    for (const slot of this.scheduler.queued()) this.scheduler.remove(slot.taskId);
    await Promise.allSettled(this.writes.pending());
    this.steps.close();
  }
}
