// One task's run: prepares the conversation from the thread, runs the agent loop with a recorder
// that applies its events (recorder.ts: persist, then publish), answers the loop's hooks for the
// person (questions, waiting), and records how the task ended.

import type { Question, ServerEvent, Task, ThreadItem } from '../../../shared/src/index.js';
import { FETCH_WITHDRAWN_NOTICE } from '../../../shared/src/web-fetch-words.js';
import type { DaemonContext } from '../context.js';
import { DiskFullError, type Tx } from '../store/journal.js';
import type { ThreadDoc } from '../store/threads.js';
import { randomId } from '../util/random-id.js';
import { readInstructions } from './instructions.js';
import { type LoopHooks, type LoopResult, type LoopState, runAgentLoop } from './loop.js';
import { systemPrompt } from './prompt.js';
import { RunRecorder } from './recorder.js';
import {
  type AgentRecord,
  conversationTainted,
  findTask,
  firstLine,
  newQuestionId,
  settleOpenTurns,
} from './records.js';
import type { Scheduler, Slot } from './scheduler.js';
import type { StepJournal } from './step-journal.js';
import type { ToolRuntime } from './tool-runtime.js';
import { usedByTask, webOptions } from './web-tools.js';
import type { ModelClient, WireMessage } from './wire.js';

export interface AgentOptions {
  /** Builds the model client for a task; defaults to the Anthropic SDK. */
  modelClient?: (cfg: { apiKey: string; baseURL?: string }) => ModelClient;
  /** First retry backoff step (ms). Default 1000. */
  retryBaseMs?: number;
  /** How often streamed text is sent as item.delta, per task (ms). Default 250. */
  deltaIntervalMs?: number;
  /** How long a tool may take to return after a cancel before the task stops waiting. Default 1000. */
  toolAbortGraceMs?: number;
  /** A model call that sends nothing for this long is abandoned and retried. Default 180 s. */
  stallMs?: number;
}

export interface RunHost {
  ctx: DaemonContext;
  tools: ToolRuntime;
  scheduler: Scheduler;
  options: AgentOptions;
  mutate<R>(threadId: string, change: (doc: ThreadDoc, rec: AgentRecord) => R): Promise<{ result: R; doc: ThreadDoc }>;
  emit(event: ServerEvent): Promise<unknown> | void;
  modelFor(apiKey: string, baseURL: string | undefined): ModelClient;
  journal: StepJournal;
  /** A daily or monthly spending cap reached: the sentence saying so. */
  spendCap(): string | undefined;
}

export function noKeyReason(home: string): string {
  return `No Anthropic API key is set. Run \`export ANTHROPIC_API_KEY=…\` before \`errand start\`, or add anthropic.apiKey to ${home}/config.json.`;
}

export { INPUT_PREVIEW_BYTES, inputForDisplay, OUTPUT_PREVIEW } from './recorder.js';

/** A write failed because the disk (or the user's quota) is full. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFullError) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

type Change = (doc: ThreadDoc, rec: AgentRecord) => unknown;

/** A record of a run that could not be written (disk full): its changes and events, to write again. */
export interface UnwrittenRecord {
  changes: Change[];
  events: ServerEvent[];
}

export const STOPPED_REASON = 'Errand stopped while this task was running';
const CANCELLED_REASON = 'Cancelled.';

export class TaskRun {
  readonly controller = new AbortController();
  /** This run's name in the step journal. */
  readonly attempt = randomId(6);
  /** Applies the loop's events to the thread and the step journal, and publishes them. */
  readonly recorder: RunRecorder;
  question: { q: Question; resolve: (answer: string) => void; reject: (err: Error) => void } | undefined;
  /** The answer to this run's open ask_user call, given before the last run was cut off. */
  private earlierAnswer: { toolUseId: string; answer: string } | undefined;
  /** The user allowed web fetch for this task (task.allowWebFetch); read before each model call. */
  private webFetchAllowed = false;
  allowWebFetch(): void {
    this.webFetchAllowed = true;
  }
  cancelledBy: string | undefined;
  /** The changes made in each of this run's open records, kept in case the record cannot be written. */
  private readonly changesOf = new WeakMap<Tx, Change[]>();
  /** This run's last record that could not be written because the disk was full. */
  private unwritten: UnwrittenRecord | undefined;
  /** The run's end, when the record holding it could not be written (disk full): to be written again. */
  unwrittenEnd: UnwrittenRecord | undefined;

  constructor(
    private readonly host: RunHost,
    readonly slot: Slot,
  ) {
    const { ctx } = host;
    this.recorder = new RunRecorder({
      taskId: slot.taskId,
      threadId: slot.threadId,
      attempt: this.attempt,
      mutate: (threadId, change) => {
        const tx = ctx.store.journal.current();
        if (tx) this.changesOf.get(tx)?.push(change);
        return host.mutate(threadId, change);
      },
      transaction: (fn) => this.record(fn),
      publish: (event) => host.emit(event),
      steps: host.journal,
      blobs: ctx.store.blobs,
      warn: (message, fields) => ctx.log.warn(message, fields),
      deltaIntervalMs: host.options.deltaIntervalMs ?? 250,
      ...(host.tools.redactor ? { redactor: () => host.tools.redactor!() } : {}),
    });
  }

  get taskId(): string {
    return this.slot.taskId;
  }
  get threadId(): string {
    return this.slot.threadId;
  }

  /**
   * One record of this run. Undoable: when it cannot be written, the thread in memory goes back to
   * what the journal has, so nothing unwritten is shown. On a full disk its changes and events are
   * kept, so that the run's end can be written again once there is room.
   */
  private record<T>(fn: () => Promise<T>): Promise<T> {
    const { journal } = this.host.ctx.store;
    if (journal.current()) return fn(); // part of the record already open
    let tx: Tx | undefined;
    return journal
      .transaction(
        (t) => {
          tx = t;
          this.changesOf.set(t, []);
          return fn();
        },
        undefined,
        { undoable: true },
      )
      .catch((err: unknown) => {
        if (tx && isDiskFull(err)) this.unwritten = { changes: this.changesOf.get(tx) ?? [], events: [...tx.events] };
        throw err;
      });
  }

  abort(why: 'cancel' | 'shutdown'): void {
    if (!this.controller.signal.aborted) this.controller.abort(why);
  }

  async execute(): Promise<void> {
    const { ctx } = this.host;
    const cfg = ctx.config();
    // Put the start message into the conversation (once), closing any turn an interrupted task left open.
    let state!: LoopState;
    let ownLimit: number | undefined;
    let contextFrom: number | undefined;
    let webUsed = { searches: 0, fetches: 0 };
    /** An earlier run of this task already said web fetch is off (a resume or retry says it once). */
    let toldFetchWithdrawn = false;
    const settled: ThreadItem[] = [];
    await this.recorder.updateTask(
      { state: 'running', reason: undefined, endedAt: undefined, model: cfg.anthropic.model },
      (doc, rec) => {
        const t = findTask(doc, this.taskId)!;
        t.startedAt ??= Date.now();
        const r = rec.tasks[this.taskId];
        r.attempt = this.attempt;
        ownLimit = r.maxCostUsd;
        if (r.webFetchAllowed) this.webFetchAllowed = true;
        toldFetchWithdrawn = doc.items.some(
          (i) => i.kind === 'notice' && i.taskId === this.taskId && i.text === FETCH_WITHDRAWN_NOTICE,
        );
        if (r.question?.answer !== undefined)
          this.earlierAnswer = { toolUseId: r.question.toolUseId, answer: r.question.answer };
        if (!r.started) {
          settled.push(...settleOpenTurns(doc, rec, this.taskId));
          if (r.freshContext) r.contextFrom = rec.messages.length;
          rec.messages.push(r.start);
          r.started = true;
        } else if (!r.inflight && rec.messages.at(-1)?.role === 'assistant') {
          // A retry after a cancel mid-reply: the conversation ends with the model's partial words.
          rec.messages.push({
            role: 'user',
            content: [{ type: 'text', text: '(The user asked to continue this task.)' }],
          });
        }
        contextFrom = r.contextFrom;
        state = {
          messages: structuredClone(rec.messages),
          inflight: r.inflight ? structuredClone(r.inflight) : undefined,
          turns: t.turns,
          usage: { ...t.usage },
          costUsd: t.costUsd,
          ...(r.costRaisedUsd ? { costRaisedUsd: r.costRaisedUsd } : {}),
          ...(r.sentAgain ? { sentAgain: r.sentAgain } : {}),
          tainted: (r.tainted ?? false) || conversationTainted(rec),
        };
        webUsed = usedByTask(rec.messages, r.start, r.inflight?.assistant);
      },
    );
    for (const item of settled) this.host.emit({ kind: 'item.updated', threadId: this.threadId, item });
    // Step records of an earlier run were folded into the thread file at start-up.
    await this.host.journal.remove(this.taskId);

    const apiKey = cfg.anthropic.apiKey;
    if (!apiKey) {
      await this.finish({ kind: 'failed', reason: noKeyReason(ctx.paths.home) }, state);
      return;
    }
    const tools = this.host.tools;
    const instructions = await readInstructions({
      personalFile: ctx.paths.instructions,
      folders: [ctx.paths.workspace, ...cfg.roots],
      noted: (names) => tools.notedFiles?.(names) ?? false,
    });
    // An instruction file a tainted task wrote puts untrusted text in this prompt: tainted from the start.
    if (instructions.untrusted.length) state.tainted = true;
    const result = await runAgentLoop({
      model: this.host.modelFor(apiKey, cfg.anthropic.baseUrl),
      tools: this.host.tools,
      signal: this.controller.signal,
      emit: (event) =>
        event.type === 'notice' && event.text === FETCH_WITHDRAWN_NOTICE && toldFetchWithdrawn
          ? undefined
          : this.recorder.apply(event),
      hooks: this.hooks(),
      budgets: {
        maxTurns: cfg.agent.maxTurns,
        maxOutputTokens: cfg.agent.maxOutputTokens,
        maxWallMs: cfg.agent.maxWallMinutes * 60_000,
        maxCostUsd: ownLimit ?? cfg.agent.maxCostUsd ?? Number.POSITIVE_INFINITY,
        ...(ownLimit !== undefined
          ? { costLimitName: "the schedule's limit per run" }
          : { currentMaxCostUsd: () => ctx.config().agent.maxCostUsd ?? Number.POSITIVE_INFINITY }),
      },
      settings: {
        model: cfg.anthropic.model,
        secrets: [apiKey],
        maxTokens: cfg.anthropic.maxTokens,
        contextTokens: cfg.anthropic.contextTokens,
        ...(cfg.anthropic.thinking.enabled ? { thinkingBudget: cfg.anthropic.thinking.budgetTokens } : {}),
        contextManagement:
          cfg.anthropic.contextManagement === 'on' ||
          (cfg.anthropic.contextManagement === 'auto' && !cfg.anthropic.baseUrl),
        retryWindowMs: cfg.agent.retryWindowSeconds * 1000,
        retryBaseMs: this.host.options.retryBaseMs ?? 1000,
        stallMs: this.host.options.stallMs,
      },
      system: systemPrompt(this.host.tools, {
        workspace: ctx.paths.workspace,
        memory: this.host.tools.definitions().some((d) => d.apiType === 'memory_20250818'),
        instructions,
      }),
      state,
      ...(contextFrom !== undefined ? { contextFrom } : {}),
      taskId: this.taskId,
      threadId: this.threadId,
      toolAbortGraceMs: this.host.options.toolAbortGraceMs,
      capReached: () => this.host.spendCap(),
      ...webOptions(cfg.web, cfg.anthropic.baseUrl, () => this.webFetchAllowed, webUsed),
    });
    await this.finish(result, state);
  }

  /** Record how the task ended, with the conversation as far as it got. */
  async finish(result: LoopResult, state: LoopState): Promise<void> {
    await this.recorder.settleText();
    const changedFiles = await this.host.tools.changedFiles?.(this.taskId).catch(() => undefined);
    const base = {
      turns: state.turns,
      usage: state.usage,
      costUsd: state.costUsd,
      endedAt: Date.now(),
      ...(changedFiles?.length ? { changedFiles } : {}),
    };
    const keep = (rec: AgentRecord, resumable = false) => {
      rec.messages = [...state.messages];
      const r = rec.tasks[this.taskId];
      r.inflight = state.inflight;
      r.tainted = state.tainted || undefined;
      r.costRaisedUsd = state.costRaisedUsd;
      // An answer given but not yet in the conversation is kept for the resumed run.
      if (!(resumable && r.question?.answer !== undefined && state.inflight)) r.question = undefined;
      r.autoResume = undefined;
    };
    if (result.kind === 'done') {
      await this.end(
        { ...base, state: 'done', resultSummary: firstLine(result.text) || 'Done.', reason: undefined },
        (_d, rec) => keep(rec),
      );
    } else if (result.kind === 'failed') {
      await this.end({ ...base, state: 'failed', reason: result.reason }, (_d, rec) => keep(rec));
    } else if (result.why === 'cancel') {
      await this.end(
        {
          ...base,
          state: 'cancelled',
          reason: this.cancelledBy ? `Cancelled from ${this.cancelledBy}.` : CANCELLED_REASON,
        },
        (_d, rec) => keep(rec),
      );
    } else {
      await this.end({ ...base, state: 'interrupted', reason: STOPPED_REASON }, (_d, rec) => {
        keep(rec, true);
        rec.tasks[this.taskId].autoResume = true;
      });
    }
    await this.host.journal.remove(this.taskId);
  }

  /** Write how the run ended; when the disk is full, keep that record to write again (unwrittenEnd). */
  private async end(patch: Partial<Task>, extra: (doc: ThreadDoc, rec: AgentRecord) => void): Promise<void> {
    this.unwritten = undefined;
    try {
      await this.recorder.updateTask(patch, extra);
    } catch (err) {
      this.unwrittenEnd = this.unwritten;
      throw err;
    }
  }

  // ---- asking the person -----------------------------------------------------------------------

  private hooks(): LoopHooks {
    const host = this.host;
    return {
      ask: async (text, step, signal) => {
        // Answered before a crash or a stop cut the run off: the answer stands, nobody is asked again.
        const earlier = this.earlierAnswer;
        this.earlierAnswer = undefined;
        if (earlier?.toolUseId === step.id) return earlier.answer;
        const q: Question = {
          id: newQuestionId(),
          taskId: this.taskId,
          threadId: this.threadId,
          text,
          createdAt: Date.now(),
        };
        const answer = new Promise<string>((resolve, reject) => {
          this.question = { q, resolve, reject };
          const onAbort = () => reject(new Error('aborted'));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        });
        answer.catch(() => undefined);
        host.scheduler.release(this.taskId);
        await this.recorder.updateTask({ state: 'waiting' }, (_doc, rec) => {
          rec.tasks[this.taskId].question = { id: q.id, text, toolUseId: step.id, createdAt: q.createdAt };
        });
        host.emit({ kind: 'question.asked', question: q });
        try {
          const a = await answer;
          host.emit({ kind: 'question.answered', questionId: q.id, taskId: this.taskId });
          await host.scheduler.acquire(this.taskId, this.controller.signal);
          // The answered question stays recorded until the checkpoint that puts the answer into the
          // conversation: this write can join the answer's own record, and clearing it here left
          // the answer nowhere durable (a crash then asked the person again).
          await this.recorder.updateTask({ state: 'running' });
          return a;
        } finally {
          this.question = undefined;
        }
      },
      setWaiting: async (waiting) => {
        if (waiting) {
          host.scheduler.release(this.taskId);
          await this.recorder.updateTask({ state: 'waiting' });
        } else {
          await host.scheduler.acquire(this.taskId, this.controller.signal);
          await this.recorder.updateTask({ state: 'running' });
        }
      },
    };
  }
}

export function liveItems(run: TaskRun | undefined): ThreadItem[] {
  return run ? run.recorder.liveItems() : [];
}

export type { WireMessage };
