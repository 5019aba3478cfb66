// Threads and tasks as clients see them: the thread.* and task.* commands (and startTask, a
// schedule's way in). Runs are the supervisor's (supervisor.ts); these handlers change the thread
// durably, publish what changed, and hand queued work to the scheduler.
import {
  ACTIVE_TASK_STATES,
  type Approval,
  ENDED_TASK_STATES,
  type Question,
  type ServerEvent,
  type Task,
  type ThreadItem,
} from '../../../shared/src/index.js';
import { FETCH_ALLOWED_GO_ON, FETCH_ALLOWED_NOTICE } from '../../../shared/src/web-fetch-words.js';
import type { DaemonContext } from '../context.js';
import type { ThreadDoc } from '../store/threads.js';
import type { CommandContext } from '../util/command-context.js';
import { CommandError } from '../util/command-error.js';
import { landAttachments, userContent } from './attachments.js';
import {
  type AgentRecord,
  agentRecord,
  cleanTitle,
  findTask,
  newItemId,
  threadOfTask,
  titleFrom,
  upsertItem,
} from './records.js';
import { liveItems } from './runner.js';
import type { Supervisor } from './supervisor.js';
import { addQueuedTask, type NewTask } from './task-setup.js';
import type { ThreadWrites } from './thread-writes.js';
import { registerWebCommands } from './web-commands.js';

/**
 * A deleted thread takes no change but a restore (checked inside the write, so a delete from another
 * device just before is seen): a rename or archive would otherwise be acknowledged and then hidden.
 */
function refuseDeleted(doc: ThreadDoc): void {
  if (doc.meta.state === 'deleted') throw new CommandError('conflict', 'This thread is deleted. Restore it first.');
}

/** Where a task's text came from, as far as how it runs is concerned. */
type TaskOrigin = Pick<NewTask, 'untrusted' | 'freshContext'>;

export class ThreadCommands {
  private startGate: (() => string | undefined) | undefined;
  /** Questions whose answer was taken (the newest 10,000), so a second answer is refused, not dropped. */
  private readonly answered = new Set<string>();

  constructor(
    private readonly ctx: DaemonContext,
    private readonly runs: Supervisor,
    private readonly writes: ThreadWrites,
    /** Approvals waiting for a decision in a thread (the tools module's), shown by thread.get. */
    private readonly approvals?: (threadId: string) => Approval[],
  ) {}

  private emit(event: ServerEvent): void {
    this.writes.emit(event);
  }

  private mutate<R>(threadId: string, change: (doc: ThreadDoc, rec: AgentRecord) => R) {
    return this.writes.mutate(threadId, change);
  }

  /** Refuse new tasks while `why` returns a sentence (a daily or monthly spending cap reached). */
  setStartGate(why: () => string | undefined): void {
    this.startGate = why;
    // Tasks already queued are held by it too, when their turn comes.
    this.runs.setStartGate(why);
  }

  async startTask(req: { text: string; title: string; threadId?: string; maxCostUsd?: number } & TaskOrigin) {
    // No attachments, so no device is needed to find uploads.
    const cc = { device: { id: 'errand', name: 'Errand' } } as CommandContext;
    const doc =
      req.threadId && this.ctx.store.threads.has(req.threadId) ? await this.loadThread(req.threadId) : undefined;
    if (doc && req.threadId && doc.meta.state !== 'deleted') {
      const made = await this.send({ threadId: req.threadId, text: req.text, maxCostUsd: req.maxCostUsd }, cc, req);
      return { threadId: req.threadId, task: made.task };
    }
    const made = await this.create({ text: req.text, title: req.title, maxCostUsd: req.maxCostUsd }, cc, req);
    return { threadId: made.thread.id, task: made.task };
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
      if (q && q.answer === undefined && t.state === 'waiting')
        out.push({ id: q.id, taskId: t.id, threadId: doc.meta.id, text: q.text, createdAt: q.createdAt });
    }
    return out;
  }

  private requireWork(): void {
    if (this.runs.stopping)
      throw new CommandError('unavailable', 'Errand is stopping; send this again when it is back.');
    const capped = this.startGate?.();
    if (capped) throw new CommandError('forbidden', capped);
  }

  // ---- threads ----------------------------------------------------------------------------------

  async create(
    cmd: { text: string; title?: string; attachmentIds?: string[]; maxCostUsd?: number },
    cc: CommandContext,
    origin: TaskOrigin = {},
  ) {
    this.requireWork();
    const landed = await landAttachments(cmd.attachmentIds, cc.device.id, this.ctx.uploads, this.ctx.paths.workspace);
    const start = { role: 'user' as const, content: await userContent(cmd.text, landed) };
    let made!: { task: Task; item: ThreadItem };
    const title = (cmd.title !== undefined && cleanTitle(cmd.title)) || titleFrom(cmd.text);
    const doc = await this.ctx.store.threads.create(title, (d) => {
      made = addQueuedTask(d, agentRecord(d), {
        text: cmd.text,
        start,
        landed,
        maxCostUsd: cmd.maxCostUsd,
        untrusted: origin.untrusted,
        freshContext: origin.freshContext,
      });
    });
    const thread = this.ctx.store.threads.summary(doc.meta.id)!;
    this.writes.created(thread);
    this.emit({ kind: 'thread.updated', thread });
    this.emit({ kind: 'item.added', threadId: thread.id, item: made.item });
    this.emit({ kind: 'task.updated', task: made.task });
    this.runs.scheduler.enqueue({ taskId: made.task.id, threadId: thread.id });
    return { thread, task: made.task };
  }

  async send(
    cmd: { threadId: string; text: string; attachmentIds?: string[]; maxCostUsd?: number },
    cc: CommandContext,
    origin: TaskOrigin = {},
  ) {
    this.requireWork();
    const doc = await this.loadThread(cmd.threadId);
    if (doc.meta.state === 'deleted') throw new CommandError('conflict', 'This thread is deleted. Restore it first.');
    const landed = await landAttachments(cmd.attachmentIds, cc.device.id, this.ctx.uploads, this.ctx.paths.workspace);
    const made = await this.newTaskInDocAsync(cmd.threadId, cmd.text, landed, cmd.maxCostUsd, origin);
    this.emit({ kind: 'item.added', threadId: cmd.threadId, item: made.item });
    this.emit({ kind: 'task.updated', task: made.task });
    this.runs.scheduler.enqueue({ taskId: made.task.id, threadId: cmd.threadId });
    return made;
  }

  private async newTaskInDocAsync(
    threadId: string,
    text: string,
    landed: Awaited<ReturnType<typeof landAttachments>>,
    maxCostUsd: number | undefined,
    origin: TaskOrigin,
  ) {
    const start = { role: 'user' as const, content: await userContent(text, landed) };
    const { result } = await this.mutate(threadId, (doc, rec) => {
      if (doc.meta.state === 'archived') doc.meta.state = 'active';
      return addQueuedTask(doc, rec, {
        text,
        start,
        landed,
        maxCostUsd,
        untrusted: origin.untrusted,
        freshContext: origin.freshContext,
      });
    });
    return result;
  }

  async get(threadId: string) {
    const doc = await this.loadThread(threadId);
    const items = [...doc.items];
    for (const t of doc.tasks) {
      for (const live of liveItems(this.runs.run(t.id))) {
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
    if (await this.runs.cancelRun(taskId, by)) return { ...(await this.taskOf(taskId)).task };
    if (this.runs.endWaitsForRoom(taskId))
      throw new CommandError(
        'unavailable',
        'This task has already finished; the disk was full when Errand saved how it ended, and it shows once there is room. Free some space.',
      );
    if (this.runs.scheduler.remove(taskId) || task.state === 'queued' || task.state === 'interrupted') {
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
      if (tr) {
        tr.autoResume = undefined;
        // A Retry asks anew: an answer kept from an earlier run ("may it go on?") is not for it. A
        // Resume goes on where a crash or a stop cut the run off, answers kept included.
        if (verb === 'retried') tr.sentAgain = (tr.sentAgain ?? 0) + 1;
      }
    });
    this.runs.scheduler.enqueue({ taskId, threadId: doc.meta.id });
    return t;
  }

  async answer(taskId: string, questionId: string, text: string): Promise<Task> {
    const { task } = await this.taskOf(taskId);
    // Checked and claimed with no await in between: of two devices answering at once (or one right
    // after the other, while the run has not taken the answer yet) exactly one is used, and the
    // other is told so instead of being acknowledged and dropped.
    if (this.answered.has(questionId))
      throw new CommandError(
        'conflict',
        'That question was already answered (from this or another device); your answer was not used.',
      );
    const run = this.runs.run(taskId);
    if (!run?.question || run.question.q.id !== questionId) {
      throw new CommandError(
        'conflict',
        task.state === 'waiting'
          ? 'That question is no longer open.'
          : `The task is not waiting for an answer (${task.state}).`,
      );
    }
    // Durable with the reply: acknowledged means kept, even if the run then waits for a free slot
    // and Errand stops before the answer is in the conversation.
    const pending = run.question;
    this.answered.add(questionId);
    if (this.answered.size > 10_000) this.answered.delete(this.answered.values().next().value!);
    try {
      await this.mutate(threadOfTask(taskId), (_doc, rec) => {
        const q = rec.tasks[taskId]?.question;
        // Never acknowledge an answer that is not kept.
        if (q?.id !== questionId) throw new CommandError('conflict', 'That question is no longer open.');
        q.answer = text;
      });
    } catch (err) {
      this.answered.delete(questionId); // not kept, so not taken: the question is open again
      throw err;
    }
    pending.resolve(text);
    return { ...task };
  }

  /** Register the thread and task commands. */
  register(): void {
    const c = this.ctx.commands;
    c.register('threads.list', async (cmd) => this.ctx.store.threads.list(cmd.includeArchived ?? false));
    c.register('thread.get', async (cmd) => this.get(cmd.threadId));
    c.register('thread.create', async (cmd, cc) => this.create(cmd, cc));
    c.register('thread.send', async (cmd, cc) => this.send(cmd, cc));
    c.register('thread.rename', async (cmd) => {
      const title = cleanTitle(cmd.title);
      if (!title) throw new CommandError('bad_request', 'A title needs at least one visible character.');
      return this.setThreadState(cmd.threadId, (d) => {
        refuseDeleted(d);
        d.meta.title = title;
      });
    });
    c.register('thread.archive', async (cmd) =>
      this.setThreadState(cmd.threadId, (d) => {
        refuseDeleted(d);
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
    registerWebCommands(this.ctx, { allowFetch: (taskId) => this.allowFetch(taskId) });
  }

  /**
   * The person allowed web fetch for a task whose thread read untrusted content. A task still going
   * takes it up before its next model call; on a task that ended (its request had fetch withdrawn,
   * and the model could only ask), the thread goes on in a new task that has the allowance from its
   * start. Either way it is one task's: nothing carries further.
   */
  private async allowFetch(taskId: string): Promise<Task> {
    const { task } = await this.taskOf(taskId);
    const start = { role: 'user' as const, content: await userContent(FETCH_ALLOWED_GO_ON, []) };
    const { result } = await this.mutate(threadOfTask(taskId), (doc, rec) => {
      const t = findTask(doc, taskId);
      const r = rec.tasks[taskId];
      if (!t || !r) throw new CommandError('not_found', 'There is no such task.');
      // Decided inside the write: a task that ended meanwhile, or a second tap from another device.
      if (!ENDED_TASK_STATES.has(t.state)) {
        if (r.webFetchAllowed) return { task: { ...t } };
        r.webFetchAllowed = true;
        const notice: ThreadItem = {
          kind: 'notice',
          id: newItemId('ntc'),
          taskId,
          text: FETCH_ALLOWED_NOTICE,
          createdAt: Date.now(),
        };
        upsertItem(doc, notice);
        return { task: { ...t }, notice };
      }
      this.requireWork();
      if (doc.meta.state === 'deleted') throw new CommandError('conflict', 'This thread is deleted. Restore it first.');
      if (doc.tasks.at(-1)?.id !== taskId)
        throw new CommandError(
          'conflict',
          'A later message in this thread was already sent, so this task cannot go on. If that task needs web pages, allow it there.',
        );
      if (doc.meta.state === 'archived') doc.meta.state = 'active';
      const made = addQueuedTask(doc, rec, { text: FETCH_ALLOWED_GO_ON, start, landed: [] });
      rec.tasks[made.task.id].webFetchAllowed = true;
      return { task: made.task, made };
    });
    if ('made' in result && result.made) {
      this.emit({ kind: 'item.added', threadId: task.threadId, item: result.made.item });
      this.emit({ kind: 'task.updated', task: result.made.task });
      this.runs.scheduler.enqueue({ taskId: result.made.task.id, threadId: task.threadId });
      return result.made.task;
    }
    if ('notice' in result && result.notice) {
      this.emit({ kind: 'item.added', threadId: task.threadId, item: result.notice });
      this.runs.run(taskId)?.allowWebFetch();
    }
    return result.task;
  }
}
