// The runs: the scheduler starts a queued task as a run (runner.ts) once the command that queued it
// is written; each run is a promise, so cancel, stop and idle() await runs instead of polling.
// Recovery after a stop or crash, and the clean stop, live here too.
import fs from 'node:fs';
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
import { type AgentOptions, isDiskFull, type RunHost, TaskRun, type UnwrittenRecord } from './runner.js';
import { Scheduler, type Slot } from './scheduler.js';
import { StepJournal, type StepRecord } from './step-journal.js';
import type { ThreadWrites } from './thread-writes.js';
import type { ToolRuntime } from './tool-runtime.js';
import type { ModelClient } from './wire.js';

const CRASH_REASON = CRASH_REASONS.running;
const CRASH_QUEUED_REASON = CRASH_REASONS.notStarted;

/** How soon an end the disk had no room for is written again: doubling from 1 s, then every 5 s (as schedules do). */
const END_RETRY_FIRST_MS = 1000;
const END_RETRY_MAX_MS = 5000;
/** Less free space than this: the end is not tried yet. */
const END_RETRY_MIN_FREE_BYTES = 64 * 1024;

/** How a run ended, to be written (again, while the disk is full). */
interface RunEnd {
  slot: Slot;
  /** The run's own last record (its end with the answer, and its events), when the disk had no room for it. */
  record?: UnwrittenRecord;
  /** Otherwise the task fails, saying why. */
  reason?: string;
  delayMs: number;
  timer?: NodeJS.Timeout;
  /** Resolves once the end is written, or given up at a stop. */
  settle: () => void;
}

/** Why a task failed because the disk was full: where, and what to do. */
function diskFullReason(err: unknown, store: string): string {
  const where = (err as { dir?: string }).dir ?? (err as { path?: string }).path ?? store;
  return `Errand could not save this task: disk full at ${where}. Free some space, then retry it.`;
}

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
  /** Ends of runs the disk had no room for, by task: written again until they land. */
  private unwrittenEnds = new Map<string, RunEnd>();

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
    try {
      await run.execute();
    } catch (err) {
      this.runs.delete(slot.taskId);
      await this.endAfterFailure(slot, run, err);
    } finally {
      this.runs.delete(slot.taskId);
      this.scheduler.finished(slot);
    }
  }

  /**
   * The run failed, or its end could not be written: record how it ended. The thread in memory is
   * as the journal has it (a run's records are undoable), so phones see the task as it was until
   * the end is written. On a full disk that is tried again every few seconds; the thread stays the
   * task's meanwhile (a follow-up waits), but its slot goes to other work. Resolves once written.
   */
  private async endAfterFailure(slot: Slot, run: TaskRun, err: unknown): Promise<void> {
    const full = isDiskFull(err);
    if (full) this.ctx.log.warn('task run failed: the disk is full', { taskId: slot.taskId, err: String(err) });
    else
      this.ctx.log.error('task run failed', {
        taskId: slot.taskId,
        err: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    let settle!: () => void;
    const settled = new Promise<void>((r) => {
      settle = r;
    });
    const end: RunEnd = {
      slot,
      ...(full && run.unwrittenEnd
        ? { record: run.unwrittenEnd }
        : {
            reason: full
              ? diskFullReason(err, this.ctx.paths.store)
              : `Errand hit an internal error: ${(err as Error)?.message ?? String(err)}`,
          }),
      delayMs: END_RETRY_FIRST_MS,
      settle,
    };
    // Just failed for want of room: the first try waits (a try shows its change until its record fails).
    if (!full && (await this.tryEnd(end))) return;
    if (this.stopping) {
      this.ctx.log.warn('the end of a task was not recorded (disk full); the next start finds it interrupted', {
        taskId: slot.taskId,
      });
      return;
    }
    this.ctx.log.warn('the end of a task is not recorded yet (disk full); trying again every few seconds', {
      taskId: slot.taskId,
    });
    this.unwrittenEnds.set(slot.taskId, end);
    this.scheduler.release(slot.taskId);
    this.retryEndSoon(end);
    await settled;
  }

  /** Write `end` once: true when it is done with (written, or not to be written); false when the disk is full. */
  private async tryEnd(end: RunEnd): Promise<boolean> {
    try {
      await this.ctx.store.journal.detached(() => this.writeEnd(end));
      return true;
    } catch (err) {
      if (isDiskFull(err) && !this.stopping) return false;
      this.ctx.log.error('could not record the end of a task', { taskId: end.slot.taskId, err: String(err) });
      return true;
    }
  }

  private retryEndSoon(end: RunEnd): void {
    end.timer = setTimeout(async () => {
      end.timer = undefined;
      if (this.stopping) return; // given up by stop()
      if (!(await this.hasRoom()) || !(await this.tryEnd(end))) {
        end.delayMs = Math.min(end.delayMs * 2, END_RETRY_MAX_MS);
        return this.retryEndSoon(end);
      }
      if (!this.stopping)
        this.ctx.log.info('recorded the end of a task once the disk had room', { taskId: end.slot.taskId });
      this.unwrittenEnds.delete(end.slot.taskId);
      end.settle();
    }, end.delayMs);
    end.timer.unref();
  }

  /** Some free space where the journal is (none: a try would fail, after showing its change meanwhile). */
  private async hasRoom(): Promise<boolean> {
    try {
      const s = await fs.promises.statfs(this.ctx.paths.store);
      return s.bavail * s.bsize >= END_RETRY_MIN_FREE_BYTES;
    } catch {
      return true; // not known: try
    }
  }

  /**
   * The end and its events in one undoable record (on a full disk nothing of it stays in memory).
   * A task that ended otherwise meanwhile (a cancel) is left as it is.
   */
  private async writeEnd(end: RunEnd): Promise<void> {
    const { threadId, taskId } = end.slot;
    await this.ctx.store.journal.transaction(
      async () => {
        const { result } = await this.writes.mutate(threadId, (doc, rec) => {
          const t = findTask(doc, taskId);
          if (!t || !ACTIVE_TASK_STATES.has(t.state)) return undefined;
          for (const change of end.record?.changes ?? []) change(doc, rec);
          if (ACTIVE_TASK_STATES.has(t.state))
            Object.assign(t, {
              state: 'failed',
              reason: end.reason ?? 'Errand stopped this task.',
              endedAt: Date.now(),
            });
          return { ...t };
        });
        if (!result) return;
        // The run's own events, but its thread summary as it is now (mutate sent that).
        const events = end.record?.events.filter((e) => e.kind !== 'thread.updated') ?? [];
        for (const e of events) this.writes.emit(e);
        if (!events.some((e) => e.kind === 'task.updated' && e.task.id === taskId && e.task.state === result.state))
          this.writes.emit({ kind: 'task.updated', task: result });
      },
      undefined,
      { undoable: true },
    );
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
  /** The task's run has ended, but the disk had no room for its end yet (it is written once there is). */
  endWaitsForRoom(taskId: string): boolean {
    return this.unwrittenEnds.has(taskId);
  }

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
    for (const id of this.ctx.store.threads.withTasksIn(unfinished)) {
      const doc = await this.ctx.store.threads.load(id);
      // A thread whose tasks all ended (one left interrupted, not to resume) owes no record: writing
      // it again made every start on a full disk refuse, though nothing was to be saved.
      if (owesRecovery(doc)) docs.push(doc);
    }
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
    // Ends the disk had no room for stay unwritten: the next start finds those tasks interrupted.
    for (const end of this.unwrittenEnds.values()) {
      clearTimeout(end.timer);
      end.settle();
    }
    this.unwrittenEnds.clear();
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

/** Whether recovery must write about a thread: a task in it is still active, or a stop cut it off to resume. */
function owesRecovery(doc: ThreadDoc): boolean {
  const records = (doc.agent as { tasks?: Record<string, { autoResume?: boolean }> }).tasks ?? {};
  return doc.tasks.some(
    (t) => ACTIVE_TASK_STATES.has(t.state) || (t.state === 'interrupted' && records[t.id]?.autoResume === true),
  );
}
