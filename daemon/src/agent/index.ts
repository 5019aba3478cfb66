// The agent module: threads and tasks as clients see them (commands), the scheduler, the runs, and
// recovery after a stop or crash. Wire it with `startAgent(ctx, { tools, pendingApprovals })`.
import path from 'node:path';
import {
  ACTIVE_TASK_STATES,
  type Approval,
  type Question,
  type ServerEvent,
  type Task,
  type TaskState,
  type ThreadItem,
  type ThreadSummary,
} from '../../../shared/src/index.js';
import type { DaemonContext, DaemonModule, StatusPart } from '../context.js';
import type { ThreadDoc } from '../store/threads.js';
import type { CommandContext } from '../util/command-context.js';
import { CommandError } from '../util/command-error.js';
import { landAttachments, userContent } from './attachments.js';
import { anthropicModel } from './model.js';
import { emptyUsage } from './pricing.js';
import {
  type AgentRecord,
  agentRecord,
  findTask,
  foldSteps,
  newItemId,
  newTaskId,
  threadOfTask,
  titleFrom,
} from './records.js';
import { type AgentOptions, liveItems, type RunHost, TaskRun } from './runner.js';
import { Scheduler, type Slot } from './scheduler.js';
import { StepJournal, type StepRecord } from './step-journal.js';
import type { ToolRuntime } from './tool-runtime.js';
import { registerWebCommands } from './web-commands.js';
import type { ModelClient } from './wire.js';

export { runAgentLoop } from './loop.js';
export type { AgentOptions } from './runner.js';

export interface AgentModule extends DaemonModule {
  /** Its part of the host status: running and queued tasks, model. */
  status(): StatusPart;
  runningTasks(): number;
  queuedTasks(): number;
  /** Resolves when no task is running or queued and every event is written (for tests, benchmarks). */
  idle(): Promise<void>;
  /** Start a task from Errand itself (a schedule's run): in `threadId` while it exists, else in a new thread. */
  startTask(req: {
    text: string;
    title: string;
    threadId?: string;
    /** The task's own spending limit (a scheduled run's), instead of agent.maxCostUsd. */
    maxCostUsd?: number;
  }): Promise<{ threadId: string; task: Task }>;
  /** Refuse new tasks while `why` returns a sentence (a daily or monthly spending cap reached). */
  setStartGate(why: () => string | undefined): void;
}

const CRASH_REASON = 'Errand stopped unexpectedly while this task was running';
const CRASH_QUEUED_REASON = 'Errand stopped unexpectedly before this task started';

/** Wait for `p`, at most `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

function summaryKey(s: ThreadSummary): string {
  return `${s.title}\u0000${s.state}\u0000${s.lastLine}\u0000${s.lastTaskId ?? ''}\u0000${s.lastTaskState ?? ''}\u0000${s.urgentState ?? ''}`;
}

class AgentService implements AgentModule, RunHost {
  readonly scheduler: Scheduler;
  private runs = new Map<string, TaskRun>();
  /** Each launched task's run: settles when it ended (or turned out to have nothing to run). */
  private settled = new Map<string, Promise<void>>();
  /** Wake idle() callers waiting for a launch. */
  private launchWaiters: Array<() => void> = [];
  private approvals: ((threadId: string) => Approval[]) | undefined;
  private pendingEmits = new Set<Promise<unknown>>();
  private lastSummary = new Map<string, string>();
  private stopping = false;
  private clients = new Map<string, ModelClient>();
  readonly journal: StepJournal;

  constructor(
    readonly ctx: DaemonContext,
    readonly tools: ToolRuntime,
    readonly options: AgentOptions,
    pendingApprovals?: (threadId: string) => Approval[],
  ) {
    this.approvals = pendingApprovals;
    this.journal = new StepJournal(path.join(ctx.paths.store, 'agent-steps'));
    this.scheduler = new Scheduler(
      () => ctx.config().agent.maxParallelTasks,
      (slot) => this.launch(slot),
    );
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  emit(event: ServerEvent): void {
    const p = this.ctx
      .emit(event)
      .catch((err: unknown) => this.ctx.log.error('could not emit an event', { kind: event.kind, err: String(err) }));
    this.pendingEmits.add(p);
    void p.finally(() => this.pendingEmits.delete(p));
  }

  async mutate<R>(
    threadId: string,
    change: (doc: ThreadDoc, rec: AgentRecord) => R,
  ): Promise<{ result: R; doc: ThreadDoc }> {
    const { result, summary, doc } = await this.ctx.store.threads.update(threadId, (d) => change(d, agentRecord(d)));
    const key = summaryKey(summary);
    if (this.lastSummary.get(threadId) !== key) {
      this.lastSummary.set(threadId, key);
      this.emit({ kind: 'thread.updated', thread: summary });
    }
    return { result, doc };
  }

  modelFor(apiKey: string, baseURL: string | undefined): ModelClient {
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
    // Cancelled (or gone with an undone command) between being queued and starting: nothing to run.
    const doc = this.ctx.store.threads.has(slot.threadId) ? this.ctx.store.threads.peek(slot.threadId) : undefined;
    const state = doc ? findTask(doc, slot.taskId)?.state : undefined;
    if (state !== 'queued') {
      this.scheduler.finished(slot);
      return;
    }
    const run = new TaskRun(this, slot);
    this.runs.set(slot.taskId, run);
    await run
      .execute()
      .catch(async (err: unknown) => {
        this.ctx.log.error('task run failed', {
          taskId: slot.taskId,
          err: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        await this.mutate(slot.threadId, (doc) => {
          const t = findTask(doc, slot.taskId);
          if (t && ACTIVE_TASK_STATES.has(t.state))
            Object.assign(t, {
              state: 'failed',
              reason: `Errand hit an internal error: ${(err as Error)?.message ?? String(err)}`,
              endedAt: Date.now(),
            });
          return t ? { ...t } : undefined;
        }).then(
          ({ result }) => {
            if (result) this.emit({ kind: 'task.updated', task: result });
          },
          () => undefined,
        );
      })
      .finally(() => {
        this.runs.delete(slot.taskId);
        this.scheduler.finished(slot);
      });
  }

  runningTasks(): number {
    return this.runs.size;
  }
  queuedTasks(): number {
    return this.scheduler.queued().length;
  }

  async idle(): Promise<void> {
    for (;;) {
      const waits: Promise<unknown>[] = [...this.settled.values(), ...this.pendingEmits];
      if (!waits.length && !this.scheduler.queued().length) return;
      // Queued with nothing running only while the scheduler is paused: wait for a launch.
      if (!waits.length) waits.push(new Promise<void>((r) => this.launchWaiters.push(r)));
      await Promise.allSettled(waits);
    }
  }

  async startTask(req: { text: string; title: string; threadId?: string; maxCostUsd?: number }) {
    // No attachments, so no device is needed to find uploads.
    const cc = { device: { id: 'errand', name: 'Errand' } } as CommandContext;
    const doc =
      req.threadId && this.ctx.store.threads.has(req.threadId) ? await this.loadThread(req.threadId) : undefined;
    if (doc && req.threadId && doc.meta.state !== 'deleted') {
      const made = await this.send({ threadId: req.threadId, text: req.text, maxCostUsd: req.maxCostUsd }, cc);
      return { threadId: req.threadId, task: made.task };
    }
    const made = await this.create({ text: req.text, title: req.title, maxCostUsd: req.maxCostUsd }, cc);
    return { threadId: made.thread.id, task: made.task };
  }

  private startGate: (() => string | undefined) | undefined;
  setStartGate(why: () => string | undefined): void {
    this.startGate = why;
  }

  private async loadThread(threadId: string): Promise<ThreadDoc> {
    if (!this.ctx.store.threads.has(threadId)) throw new CommandError('not_found', 'There is no such thread.');
    return this.ctx.store.threads.load(threadId);
  }

  private questionsOf(doc: ThreadDoc): Question[] {
    const rec = agentRecord(doc);
    const out: Question[] = [];
    for (const t of doc.tasks) {
      const q = rec.tasks[t.id]?.question;
      if (q && t.state === 'waiting')
        out.push({ id: q.id, taskId: t.id, threadId: doc.meta.id, text: q.text, createdAt: q.createdAt });
    }
    return out;
  }

  private requireWork(): void {
    if (this.stopping) throw new CommandError('unavailable', 'Errand is stopping; send this again when it is back.');
    const capped = this.startGate?.();
    if (capped) throw new CommandError('forbidden', capped);
  }

  // ---- threads ----------------------------------------------------------------------------------

  async create(
    cmd: { text: string; title?: string; attachmentIds?: string[]; maxCostUsd?: number },
    cc: CommandContext,
  ) {
    this.requireWork();
    const landed = await landAttachments(cmd.attachmentIds, cc.device.id, this.ctx.uploads, this.ctx.paths.workspace);
    const start = { role: 'user' as const, content: await userContent(cmd.text, landed) };
    let made!: { task: Task; item: ThreadItem };
    const doc = await this.ctx.store.threads.create(cmd.title ?? titleFrom(cmd.text), (d) => {
      const rec = agentRecord(d);
      const now = Date.now();
      const taskId = newTaskId(d.meta.id);
      const item: ThreadItem = {
        kind: 'user',
        id: newItemId('msg'),
        taskId,
        text: cmd.text,
        createdAt: now,
        ...(landed.length ? { attachments: landed.map((l) => l.attachment) } : {}),
      };
      const task: Task = {
        id: taskId,
        threadId: d.meta.id,
        state: 'queued',
        messageId: item.id,
        createdAt: now,
        turns: 0,
        usage: emptyUsage(),
        costUsd: 0,
      };
      d.items.push(item);
      d.tasks.push(task);
      rec.tasks[taskId] = {
        start,
        started: false,
        ...(cmd.maxCostUsd ? { maxCostUsd: cmd.maxCostUsd } : {}),
        // Files received from outside are untrusted content, like web pages and connector output.
        ...(landed.length ? { tainted: true } : {}),
      };
      made = { task: { ...task }, item };
    });
    const thread = this.ctx.store.threads.summary(doc.meta.id)!;
    this.lastSummary.set(thread.id, summaryKey(thread));
    this.emit({ kind: 'thread.updated', thread });
    this.emit({ kind: 'item.added', threadId: thread.id, item: made.item });
    this.emit({ kind: 'task.updated', task: made.task });
    this.scheduler.enqueue({ taskId: made.task.id, threadId: thread.id });
    return { thread, task: made.task };
  }

  async send(
    cmd: { threadId: string; text: string; attachmentIds?: string[]; maxCostUsd?: number },
    cc: CommandContext,
  ) {
    this.requireWork();
    const doc = await this.loadThread(cmd.threadId);
    if (doc.meta.state === 'deleted') throw new CommandError('conflict', 'This thread is deleted. Restore it first.');
    const landed = await landAttachments(cmd.attachmentIds, cc.device.id, this.ctx.uploads, this.ctx.paths.workspace);
    const made = await this.newTaskInDocAsync(cmd.threadId, cmd.text, landed, cmd.maxCostUsd);
    this.emit({ kind: 'item.added', threadId: cmd.threadId, item: made.item });
    this.emit({ kind: 'task.updated', task: made.task });
    this.scheduler.enqueue({ taskId: made.task.id, threadId: cmd.threadId });
    return made;
  }

  private async newTaskInDocAsync(
    threadId: string,
    text: string,
    landed: Awaited<ReturnType<typeof landAttachments>>,
    maxCostUsd?: number,
  ) {
    const content = await userContent(text, landed);
    const { result } = await this.mutate(threadId, (doc, rec) => {
      if (doc.meta.state === 'archived') doc.meta.state = 'active';
      const now = Date.now();
      const taskId = newTaskId(doc.meta.id);
      const item: ThreadItem = {
        kind: 'user',
        id: newItemId('msg'),
        taskId,
        text,
        createdAt: now,
        ...(landed.length ? { attachments: landed.map((l) => l.attachment) } : {}),
      };
      const task: Task = {
        id: taskId,
        threadId: doc.meta.id,
        state: 'queued',
        messageId: item.id,
        createdAt: now,
        turns: 0,
        usage: emptyUsage(),
        costUsd: 0,
      };
      doc.items.push(item);
      doc.tasks.push(task);
      rec.tasks[taskId] = {
        start: { role: 'user', content },
        started: false,
        ...(maxCostUsd ? { maxCostUsd } : {}),
        // Files received from outside are untrusted content, like web pages and connector output.
        ...(landed.length ? { tainted: true } : {}),
      };
      return { task: { ...task }, item };
    });
    return result;
  }

  async get(threadId: string) {
    const doc = await this.loadThread(threadId);
    const items = [...doc.items];
    for (const t of doc.tasks) {
      for (const live of liveItems(this.runs.get(t.id))) {
        const i = items.findIndex((x) => x.id === live.id);
        if (i >= 0) items[i] = live;
        else items.push(live);
      }
    }
    return {
      thread: this.ctx.store.threads.summary(threadId)!,
      items,
      tasks: doc.tasks.map((t) => ({ ...t })),
      approvals: this.approvals?.(threadId) ?? [],
      questions: this.questionsOf(doc),
    };
  }

  private async setThreadState(threadId: string, change: (doc: ThreadDoc) => void) {
    await this.loadThread(threadId);
    await this.mutate(threadId, change);
    return { thread: this.ctx.store.threads.summary(threadId)! };
  }

  // ---- tasks ------------------------------------------------------------------------------------

  private async taskOf(taskId: string): Promise<{ doc: ThreadDoc; task: Task }> {
    const threadId = threadOfTask(taskId);
    if (!this.ctx.store.threads.has(threadId)) throw new CommandError('not_found', 'There is no such task.');
    const doc = await this.ctx.store.threads.load(threadId);
    const task = findTask(doc, taskId);
    if (!task) throw new CommandError('not_found', 'There is no such task.');
    return { doc, task };
  }

  /** Change a task durably; `extra` runs first and may throw to refuse (nothing is written then). */
  private async setTask(
    taskId: string,
    patch: Partial<Task>,
    extra?: (doc: ThreadDoc, rec: AgentRecord) => void,
  ): Promise<Task> {
    const { result } = await this.mutate(threadOfTask(taskId), (doc, rec) => {
      const t = findTask(doc, taskId)!;
      extra?.(doc, rec);
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete (t as Record<string, unknown>)[k];
        else (t as Record<string, unknown>)[k] = v;
      }
      return { ...t };
    });
    this.emit({ kind: 'task.updated', task: result });
    return result;
  }

  async cancel(taskId: string, by: string | undefined): Promise<Task> {
    const { task } = await this.taskOf(taskId);
    const run = this.runs.get(taskId);
    if (run) {
      run.cancelledBy = by;
      const ended = this.settled.get(taskId) ?? Promise.resolve();
      run.abort('cancel');
      await within(ended, 3000);
      return { ...(await this.taskOf(taskId)).task };
    }
    if (this.scheduler.remove(taskId) || task.state === 'queued' || task.state === 'interrupted') {
      return this.setTask(
        taskId,
        {
          state: 'cancelled',
          reason: task.state === 'interrupted' ? 'Cancelled after it was interrupted.' : 'Cancelled before it started.',
          endedAt: Date.now(),
        },
        (_d, rec) => {
          const r = rec.tasks[taskId];
          if (r) {
            r.autoResume = undefined;
            r.question = undefined;
          }
        },
      );
    }
    throw new CommandError('conflict', `The task has already ended (${task.state}).`);
  }

  /** Retry (failed, cancelled) or resume (interrupted): the same task continues from its last checkpoint. */
  async again(taskId: string, allowed: Task['state'][], verb: string): Promise<Task> {
    this.requireWork();
    const { doc, task } = await this.taskOf(taskId);
    if (!allowed.includes(task.state))
      throw new CommandError(
        'conflict',
        `Only a ${allowed.join(' or ')} task can be ${verb}; this one is ${task.state}.`,
      );
    if (doc.meta.state === 'deleted') throw new CommandError('conflict', 'This thread is deleted. Restore it first.');
    const rec = agentRecord(doc);
    const later = doc.tasks.slice(doc.tasks.indexOf(task) + 1).some((t) => rec.tasks[t.id]?.started);
    if (later)
      throw new CommandError(
        'conflict',
        `A later message in this thread has already run, so this task cannot be ${verb}. Send a new message instead.`,
      );
    const t = await this.setTask(taskId, { state: 'queued', reason: undefined, endedAt: undefined }, (d, r) => {
      // Checked again inside the write: two retries sent at once must not queue the task twice.
      const now = findTask(d, taskId)!;
      if (!allowed.includes(now.state))
        throw new CommandError(
          'conflict',
          `Only a ${allowed.join(' or ')} task can be ${verb}; this one is ${now.state}.`,
        );
      const tr = r.tasks[taskId];
      if (tr) tr.autoResume = undefined;
    });
    this.scheduler.enqueue({ taskId, threadId: doc.meta.id });
    return t;
  }

  async answer(taskId: string, questionId: string, text: string): Promise<Task> {
    const { task } = await this.taskOf(taskId);
    const run = this.runs.get(taskId);
    if (!run?.question || run.question.q.id !== questionId) {
      throw new CommandError(
        'conflict',
        task.state === 'waiting'
          ? 'That question is no longer open.'
          : `The task is not waiting for an answer (${task.state}).`,
      );
    }
    run.question.resolve(text);
    return { ...task };
  }

  // ---- start and stop ---------------------------------------------------------------------------

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
      for (const t of doc.tasks) if (ACTIVE_TASK_STATES.has(t.state)) steps.set(t.id, await this.journal.read(t.id));
      await this.ctx.store.journal.transaction(async () => {
        const { result } = await this.mutate(threadId, (d, rec) => {
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
        for (const item of result.items) this.emit({ kind: 'item.updated', threadId, item });
        for (const n of result.notices) this.emit({ kind: 'item.added', threadId, item: n });
        for (const t of result.changed) this.emit({ kind: 'task.updated', task: t });
      });
    }
    if (crashed) {
      const text = `${crashed === 1 ? 'A task was' : `${crashed} tasks were`} interrupted because Errand stopped unexpectedly. Open ${crashed === 1 ? 'it' : 'them'} to resume.`;
      this.emit({ kind: 'notice', level: 'warning', text, at: Date.now() });
      this.ctx.log.warn(text);
    }
    await this.journal.clear();
    for (const slot of resume) this.scheduler.enqueue(slot);
    if (resume.length)
      this.ctx.log.info(`running ${resume.length} task(s) left queued or interrupted by the last stop`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.scheduler.pause();
    const runs = [...this.runs.values()];
    const ended = Promise.all(runs.map((run) => this.settled.get(run.taskId)));
    for (const run of runs) run.abort('shutdown');
    await within(ended, 5000);
    // Queued tasks stay queued: they are the user's unanswered messages and run on the next start.
    for (const slot of this.scheduler.queued()) this.scheduler.remove(slot.taskId);
    await Promise.allSettled([...this.pendingEmits]);
    this.journal.close();
  }

  register(): void {
    const c = this.ctx.commands;
    c.register('threads.list', async (cmd) => this.ctx.store.threads.list(cmd.includeArchived ?? false));
    c.register('thread.get', async (cmd) => this.get(cmd.threadId));
    c.register('thread.create', async (cmd, cc) => this.create(cmd, cc));
    c.register('thread.send', async (cmd, cc) => this.send(cmd, cc));
    c.register('thread.rename', async (cmd) =>
      this.setThreadState(cmd.threadId, (d) => {
        d.meta.title = cmd.title;
      }),
    );
    c.register('thread.archive', async (cmd) =>
      this.setThreadState(cmd.threadId, (d) => {
        if (d.meta.state === 'active') d.meta.state = 'archived';
      }),
    );
    c.register('thread.delete', async (cmd) => {
      const doc = await this.loadThread(cmd.threadId);
      for (const t of doc.tasks)
        if (ACTIVE_TASK_STATES.has(t.state)) await this.cancel(t.id, undefined).catch(() => undefined);
      return this.setThreadState(cmd.threadId, (d) => {
        d.meta.state = 'deleted';
      });
    });
    c.register('thread.restore', async (cmd) =>
      this.setThreadState(cmd.threadId, (d) => {
        d.meta.state = 'active';
      }),
    );
    c.register('task.cancel', async (cmd, cc) => ({ task: await this.cancel(cmd.taskId, cc.device.name) }));
    c.register('task.retry', async (cmd) => ({
      task: await this.again(cmd.taskId, ['failed', 'cancelled'], 'retried'),
    }));
    c.register('task.resume', async (cmd) => ({ task: await this.again(cmd.taskId, ['interrupted'], 'resumed') }));
    c.register('task.answer', async (cmd) => ({ task: await this.answer(cmd.taskId, cmd.questionId, cmd.text) }));
    c.register('step.output', async (cmd) => {
      const doc = await this.loadThread(cmd.threadId);
      const item = doc.items.find((i) => i.id === cmd.stepId);
      if (item?.kind !== 'tool') throw new CommandError('not_found', 'There is no such step.');
      if (!item.outputBlob) return { text: item.output ?? '' };
      const text = await this.ctx.store.blobs.get(item.outputBlob.id);
      if (text === undefined) throw new CommandError('not_found', 'The full output of this step is no longer kept.');
      return { text };
    });
    registerWebCommands(this.ctx, {
      allowFetch: async (taskId) => {
        await this.taskOf(taskId);
        const task = await this.setTask(taskId, {}, (_doc, rec) => {
          const r = rec.tasks[taskId];
          if (!r) throw new CommandError('not_found', 'There is no such task.');
          r.webFetchAllowed = true;
        });
        this.runs.get(taskId)?.allowWebFetch();
        return task;
      },
    });
  }

  status(): StatusPart {
    return {
      runningTasks: this.runs.size,
      queuedTasks: this.scheduler.queued().length,
      apiKeyConfigured: Boolean(this.ctx.config().anthropic.apiKey),
      model: this.ctx.config().anthropic.model,
    };
  }
}

/** What the agent is built with besides the daemon context. */
export interface AgentDeps {
  tools: ToolRuntime;
  /** Approvals waiting for a decision in a thread, shown by thread.get (the tools module's). */
  pendingApprovals?: (threadId: string) => Approval[];
}

/** Start the agent: register its commands and status, recover tasks from the last run. */
export async function startAgent(
  ctx: DaemonContext,
  deps: AgentDeps,
  options: AgentOptions = {},
): Promise<AgentModule> {
  const service = new AgentService(ctx, deps.tools, options, deps.pendingApprovals);
  service.register();
  await service.recover();
  return service;
}
