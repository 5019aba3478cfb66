// One task's run: prepares the conversation from the thread, runs the agent loop with a sink that
// persists (ThreadStore.update: a journal record of what changed, with its events) and publishes
// (ctx.emit), and records how it ended.

import crypto from 'node:crypto';
import type { Question, ServerEvent, Task, ThreadItem } from '../../../shared/src/index.js';
import type { DaemonContext } from '../context.js';
import type { ThreadDoc } from '../store/threads.js';
import { readInstructions } from './instructions.js';
import { type LoopResult, type LoopSink, type LoopState, runAgentLoop, type ToolStep } from './loop.js';
import { systemPrompt } from './prompt.js';
import {
  type AgentRecord,
  conversationTainted,
  findTask,
  firstLine,
  newItemId,
  newQuestionId,
  settleOpenTurns,
  upsertItem,
} from './records.js';
import { retryNotice } from './retry.js';
import type { Scheduler, Slot } from './scheduler.js';
import type { StepJournal, StepRecord } from './step-journal.js';
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
  emit(event: ServerEvent): void;
  modelFor(apiKey: string, baseURL: string | undefined): ModelClient;
  journal: StepJournal;
}

export function noKeyReason(home: string): string {
  return `No Anthropic API key is set. Run \`export ANTHROPIC_API_KEY=…\` before \`errand start\`, or add anthropic.apiKey to ${home}/config.json.`;
}

export const STOPPED_REASON = 'Errand stopped while this task was running';
const CANCELLED_REASON = 'Cancelled.';
/** Characters of a tool's output kept in the thread and its events; longer outputs are blobs. */
export const OUTPUT_PREVIEW = 64_000;

/** How much of a call's input a step shows; the model keeps the whole input in the conversation. */
export const INPUT_PREVIEW_BYTES = 32 * 1024;

/** A tool's input as the phone shows it: whole when small, else a bounded preview (events stay bounded). */
export function inputForDisplay(input: unknown): unknown {
  const json = JSON.stringify(input) ?? '';
  if (json.length <= INPUT_PREVIEW_BYTES) return input;
  return { preview: `${json.slice(0, INPUT_PREVIEW_BYTES)}…`, bytes: Buffer.byteLength(json) };
}

type AssistantItem = Extract<ThreadItem, { kind: 'assistant' }>;

export class TaskRun {
  readonly controller = new AbortController();
  /** Streaming text items not yet persisted (thread.get shows them too). */
  readonly live = new Map<string, AssistantItem>();
  /** Items whose latest state waits for the next thread write (thread.get shows them meanwhile). */
  readonly unsaved = new Map<string, ThreadItem>();
  /** This run's name in the step journal. */
  readonly attempt = crypto.randomBytes(6).toString('base64url');
  /** What the next step-journal record carries besides its own step. */
  private journalCarry: Omit<StepRecord, 'attempt' | 'turn' | 'started'> = {};
  question: { q: Question; resolve: (answer: string) => void; reject: (err: Error) => void } | undefined;
  task: Task | undefined;
  private pendingDeltas = new Map<string, string>();
  /** Changes (and their events) that ride along with the next durable write of this run. */
  private deferred: Array<(doc: ThreadDoc, rec: AgentRecord) => void> = [];
  private deferredEvents: ServerEvent[] = [];
  private deltaTimer: NodeJS.Timeout | undefined;
  /** The user allowed web fetch for this task (task.allowWebFetch); read before each model call. */
  private webFetchAllowed = false;
  allowWebFetch(): void {
    this.webFetchAllowed = true;
  }
  cancelledBy: string | undefined;

  constructor(
    private readonly host: RunHost,
    readonly slot: Slot,
  ) {}

  get taskId(): string {
    return this.slot.taskId;
  }
  get threadId(): string {
    return this.slot.threadId;
  }

  abort(why: 'cancel' | 'shutdown'): void {
    if (!this.controller.signal.aborted) this.controller.abort(why);
  }

  /** One durable write of the thread, carrying any deferred changes, and their events: one journal record. */
  private write<R>(change: (doc: ThreadDoc, rec: AgentRecord) => R): Promise<R> {
    return this.host.ctx.store.journal.transaction(() => this.writeNow(change));
  }

  private async writeNow<R>(change: (doc: ThreadDoc, rec: AgentRecord) => R): Promise<R> {
    const pending = this.deferred.splice(0);
    const events = this.deferredEvents.splice(0);
    const saved = [...this.unsaved.entries()];
    this.journalCarry = {}; // everything it held is in `pending` too
    const { result } = await this.host.mutate(this.threadId, (doc, rec) => {
      for (const d of pending) d(doc, rec);
      return change(doc, rec);
    });
    for (const [id, item] of saved) if (this.unsaved.get(id) === item) this.unsaved.delete(id);
    for (const e of events) this.host.emit(e);
    return result;
  }

  /** Keep `item` as the latest state of a thread item until the next thread write has it. */
  private remember(item: ThreadItem): ThreadItem {
    const copy = { ...item } as ThreadItem;
    this.unsaved.set(item.id, copy);
    this.deferred.push((doc) => upsertItem(doc, copy));
    return copy;
  }

  /** One durable step-journal record; events held for durability follow it. */
  private async journal(turn: number, started: string): Promise<void> {
    const record: StepRecord = { attempt: this.attempt, turn, ...this.journalCarry, started };
    this.journalCarry = {};
    const events = this.deferredEvents.splice(0);
    await this.host.journal.append(this.taskId, record);
    for (const e of events) this.host.emit(e);
  }

  /** A task change and its events: one journal record. */
  private updateTask(patch: Partial<Task>, extra?: (doc: ThreadDoc, rec: AgentRecord) => void): Promise<Task> {
    return this.host.ctx.store.journal.transaction(() => this.changeTask(patch, extra));
  }

  private async changeTask(patch: Partial<Task>, extra?: (doc: ThreadDoc, rec: AgentRecord) => void): Promise<Task> {
    const result = await this.write((doc, rec) => {
      const t = findTask(doc, this.taskId);
      if (!t) throw new Error(`task ${this.taskId} is gone`);
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete (t as Record<string, unknown>)[k];
        else (t as Record<string, unknown>)[k] = v;
      }
      extra?.(doc, rec);
      return { ...t };
    });
    this.task = result;
    this.host.emit({ kind: 'task.updated', task: result });
    return result;
  }

  async execute(): Promise<void> {
    const { ctx } = this.host;
    const cfg = ctx.config();
    // Put the start message into the conversation (once), closing any turn an interrupted task left open.
    let state!: LoopState;
    let ownLimit: number | undefined;
    let webUsed = { searches: 0, fetches: 0 };
    const settled: ThreadItem[] = [];
    await this.updateTask(
      { state: 'running', reason: undefined, endedAt: undefined, model: cfg.anthropic.model },
      (doc, rec) => {
        const t = findTask(doc, this.taskId)!;
        t.startedAt ??= Date.now();
        const r = rec.tasks[this.taskId];
        r.attempt = this.attempt;
        ownLimit = r.maxCostUsd;
        if (r.webFetchAllowed) this.webFetchAllowed = true;
        if (!r.started) {
          settled.push(...settleOpenTurns(doc, rec, this.taskId));
          rec.messages.push(r.start);
          r.started = true;
        } else if (!r.inflight && rec.messages.at(-1)?.role === 'assistant') {
          // A retry after a cancel mid-reply: the conversation ends with the model's partial words.
          rec.messages.push({
            role: 'user',
            content: [{ type: 'text', text: '(The user asked to continue this task.)' }],
          });
        }
        state = {
          messages: structuredClone(rec.messages),
          inflight: r.inflight ? structuredClone(r.inflight) : undefined,
          turns: t.turns,
          usage: { ...t.usage },
          costUsd: t.costUsd,
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
    const result = await runAgentLoop({
      model: this.host.modelFor(apiKey, cfg.anthropic.baseUrl),
      tools: this.host.tools,
      signal: this.controller.signal,
      sink: this.sink(state),
      budgets: {
        maxTurns: cfg.agent.maxTurns,
        maxOutputTokens: cfg.agent.maxOutputTokens,
        maxWallMs: cfg.agent.maxWallMinutes * 60_000,
        maxCostUsd: ownLimit ?? cfg.agent.maxCostUsd,
        ...(ownLimit !== undefined ? { costLimitName: "the schedule's limit per run" } : {}),
      },
      settings: {
        model: cfg.anthropic.model,
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
        instructions: await readInstructions({
          personalFile: ctx.paths.instructions,
          folders: [ctx.paths.workspace, ...cfg.roots],
        }),
      }),
      state,
      taskId: this.taskId,
      threadId: this.threadId,
      toolAbortGraceMs: this.host.options.toolAbortGraceMs,
      ...webOptions(cfg.web, cfg.anthropic.baseUrl, () => this.webFetchAllowed, webUsed),
    });
    await this.finish(result, state);
  }

  /** Record how the task ended, with the conversation as far as it got. */
  async finish(result: LoopResult, state: LoopState): Promise<void> {
    this.flushDeltas();
    // Streaming items the loop did not get to persist (an abort between events): keep their text.
    for (const item of [...this.live.values()]) await this.persistText(item.id, item.text);
    const changedFiles = await this.host.tools.changedFiles?.(this.taskId).catch(() => undefined);
    const base = {
      turns: state.turns,
      usage: state.usage,
      costUsd: state.costUsd,
      endedAt: Date.now(),
      ...(changedFiles?.length ? { changedFiles } : {}),
    };
    const keep = (rec: AgentRecord) => {
      rec.messages = [...state.messages];
      const r = rec.tasks[this.taskId];
      r.inflight = state.inflight;
      r.tainted = state.tainted || undefined;
      r.question = undefined;
      r.autoResume = undefined;
    };
    if (result.kind === 'done') {
      await this.updateTask(
        { ...base, state: 'done', resultSummary: firstLine(result.text) || 'Done.', reason: undefined },
        (_d, rec) => keep(rec),
      );
    } else if (result.kind === 'failed') {
      await this.updateTask({ ...base, state: 'failed', reason: result.reason }, (_d, rec) => keep(rec));
    } else if (result.why === 'cancel') {
      await this.updateTask(
        {
          ...base,
          state: 'cancelled',
          reason: this.cancelledBy ? `Cancelled from ${this.cancelledBy}.` : CANCELLED_REASON,
        },
        (_d, rec) => keep(rec),
      );
    } else {
      await this.updateTask({ ...base, state: 'interrupted', reason: STOPPED_REASON }, (_d, rec) => {
        keep(rec);
        rec.tasks[this.taskId].autoResume = true;
      });
    }
    await this.host.journal.remove(this.taskId);
  }

  // ---- streaming text -------------------------------------------------------------------------

  private flushDeltas(): void {
    clearTimeout(this.deltaTimer);
    this.deltaTimer = undefined;
    for (const [itemId, delta] of this.pendingDeltas) {
      if (delta) this.host.emit({ kind: 'item.delta', threadId: this.threadId, taskId: this.taskId, itemId, delta });
    }
    this.pendingDeltas.clear();
  }

  /**
   * A text block ended: its full text goes into the thread with the next durable write of this run
   * (the tool "started" record or the turn's checkpoint, which follow at once), or now when `now`.
   */
  private async persistText(
    itemId: string,
    text: string,
    now = false,
    sources?: Array<{ title: string; url: string }>,
  ): Promise<void> {
    const pending = this.pendingDeltas.get(itemId);
    if (pending) {
      this.host.emit({ kind: 'item.delta', threadId: this.threadId, taskId: this.taskId, itemId, delta: pending });
      this.pendingDeltas.delete(itemId);
    }
    const live = this.live.get(itemId);
    this.live.delete(itemId);
    const createdAt = live?.createdAt ?? Date.now();
    const item: AssistantItem = {
      kind: 'assistant',
      id: itemId,
      taskId: this.taskId,
      text,
      createdAt,
      ...(sources ? { sources } : {}),
    };
    if (text) {
      this.remember(item);
    } else {
      // Nothing said in this block (a retried attempt said less): drop it from the history.
      this.unsaved.delete(itemId);
      this.deferred.push((doc) => {
        doc.items = doc.items.filter((x) => x.id !== itemId);
      });
    }
    this.deferredEvents.push({ kind: 'item.updated', threadId: this.threadId, item });
    if (now) await this.write(() => undefined);
  }

  private sink(state: LoopState): LoopSink {
    const host = this.host;
    const interval = host.options.deltaIntervalMs ?? 250;
    const emitItem = (item: ThreadItem | undefined, added = false) => {
      if (item) host.emit({ kind: added ? 'item.added' : 'item.updated', threadId: this.threadId, item: { ...item } });
    };
    return {
      textStart: () => {
        const item: AssistantItem = {
          kind: 'assistant',
          id: newItemId('itm'),
          taskId: this.taskId,
          text: '',
          createdAt: Date.now(),
        };
        this.live.set(item.id, item);
        emitItem(item, true);
        return item.id;
      },
      textDelta: (itemId, delta) => {
        const item = this.live.get(itemId);
        if (item) item.text += delta;
        this.pendingDeltas.set(itemId, (this.pendingDeltas.get(itemId) ?? '') + delta);
        this.deltaTimer ??= setTimeout(() => this.flushDeltas(), interval);
      },
      textEnd: (itemId, text, sources) => this.persistText(itemId, text, false, sources),
      thought: async ({ summary, redacted, ms }) => {
        const item: ThreadItem = {
          kind: 'thought',
          id: newItemId('itm'),
          taskId: this.taskId,
          text: summary.slice(0, 20_000),
          ...(redacted ? { redacted: true } : {}),
          ms: Math.max(0, Math.round(ms)),
          createdAt: Date.now(),
        };
        emitItem(this.remember(item), true);
      },
      textReset: (itemId) => {
        this.pendingDeltas.delete(itemId);
        const item = this.live.get(itemId) ?? {
          kind: 'assistant' as const,
          id: itemId,
          taskId: this.taskId,
          text: '',
          createdAt: Date.now(),
        };
        item.text = '';
        this.live.set(itemId, item);
        emitItem(item);
      },
      // Tool steps: "started" is a step-journal record (one fdatasync) written before the call
      // runs; it also carries the reply and the results of calls finished since the last record.
      // The turn's checkpoint (a thread write) then holds all of it in the thread file.
      toolsPlanned: async (steps: ToolStep[]) => {
        const now = Date.now();
        const inflight = structuredClone(state.inflight);
        this.deferred.push((_doc, rec) => {
          rec.tasks[this.taskId].inflight = inflight;
        });
        const items = steps.map((s) =>
          this.remember({
            kind: 'tool',
            id: s.id,
            taskId: this.taskId,
            tool: s.name,
            summary: s.summary,
            state: 'pending',
            input: inputForDisplay(s.input),
            createdAt: now,
          }),
        );
        this.journalCarry = {
          assistant: state.inflight!.assistant,
          items: [...this.unsaved.values()].map((i) => ({ ...i })),
        };
        for (const item of items) emitItem(item, true);
      },
      toolStarted: async (step) => {
        const prev = this.unsaved.get(step.id);
        await this.journal(state.turns, step.id);
        if (prev && prev.kind === 'tool') emitItem(this.remember({ ...prev, state: 'running' }));
      },
      toolFinished: async (step, end) => {
        const endedAt = Date.now();
        const result = state.inflight!.results[step.id];
        const inflight = structuredClone(state.inflight);
        const tainted = state.tainted;
        this.deferred.push((_doc, rec) => {
          rec.tasks[this.taskId].inflight = inflight;
          if (tainted) rec.tasks[this.taskId].tainted = true;
        });
        this.journalCarry.results = { ...this.journalCarry.results, [step.id]: { result, end, endedAt } };
        const prev = this.unsaved.get(step.id);
        const base =
          prev && prev.kind === 'tool'
            ? prev
            : {
                kind: 'tool' as const,
                id: step.id,
                taskId: this.taskId,
                tool: step.name,
                summary: step.summary,
                input: inputForDisplay(step.input),
                createdAt: endedAt,
              };
        // A long output is kept whole as a blob (durable before the record naming it); the item and
        // its events carry a bounded preview.
        const blob =
          end.output !== undefined && end.output.length > OUTPUT_PREVIEW
            ? await this.host.ctx.store.blobs.put(end.output).catch(() => undefined)
            : undefined;
        const item = this.remember({
          ...base,
          state: end.state,
          endedAt,
          ...(end.summary ? { summary: end.summary } : {}),
          ...(end.output !== undefined ? { output: end.output.slice(0, OUTPUT_PREVIEW) } : {}),
          ...(blob ? { outputBlob: blob } : {}),
        } as ThreadItem);
        // Shown once durable: with the next journal record or thread write.
        this.deferredEvents.push({ kind: 'item.updated', threadId: this.threadId, item: { ...item } });
      },
      describe: (step, summary) => {
        const prev = this.unsaved.get(step.id);
        if (prev && prev.kind === 'tool') emitItem(this.remember({ ...prev, summary }));
      },
      checkpoint: async () => {
        await this.updateTask(
          { turns: state.turns, usage: { ...state.usage }, costUsd: state.costUsd },
          (_doc, rec) => {
            // Committed turns are never changed again (except old tool output being shortened, which
            // should be kept too), so a shallow copy is enough.
            rec.messages = [...state.messages];
            const r = rec.tasks[this.taskId];
            r.inflight = state.inflight ? structuredClone(state.inflight) : undefined;
            r.tainted = state.tainted || undefined;
          },
        );
      },
      progress: () => {
        if (!this.task) return;
        this.task = { ...this.task, turns: state.turns, usage: { ...state.usage }, costUsd: state.costUsd };
        host.emit({ kind: 'task.updated', task: this.task });
      },
      ask: async (text, step, signal) => {
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
        await this.updateTask({ state: 'waiting' }, (_doc, rec) => {
          rec.tasks[this.taskId].question = { id: q.id, text, toolUseId: step.id, createdAt: q.createdAt };
        });
        host.emit({ kind: 'question.asked', question: q });
        try {
          const a = await answer;
          host.emit({ kind: 'question.answered', questionId: q.id, taskId: this.taskId });
          await host.scheduler.acquire(this.taskId, this.controller.signal);
          await this.updateTask({ state: 'running' }, (_doc, rec) => {
            rec.tasks[this.taskId].question = undefined;
          });
          return a;
        } finally {
          this.question = undefined;
        }
      },
      setWaiting: async (waiting) => {
        if (waiting) {
          host.scheduler.release(this.taskId);
          await this.updateTask({ state: 'waiting' });
        } else {
          await host.scheduler.acquire(this.taskId, this.controller.signal);
          await this.updateTask({ state: 'running' });
        }
      },
      retrying: (failure, delayMs) => {
        host.ctx.log.warn('model call failed; retrying', { taskId: this.taskId, message: failure.message, delayMs });
        // Shown in the thread at once; it goes into the thread file with the next write of this run
        // (thread.get shows it from `unsaved` meanwhile), like the run's other items.
        const text = retryNotice(failure, delayMs);
        emitItem(
          this.remember({
            kind: 'notice',
            id: newItemId('ntc'),
            taskId: this.taskId,
            text,
            transient: true,
            createdAt: Date.now(),
          }),
          true,
        );
      },
      webStep: (s) => {
        const now = Date.now();
        emitItem(this.remember({ kind: 'tool', ...s, taskId: this.taskId, createdAt: now, endedAt: now }), true);
      },
      notice: (text) => {
        emitItem(
          this.remember({ kind: 'notice', id: newItemId('ntc'), taskId: this.taskId, text, createdAt: Date.now() }),
          true,
        );
      },
    };
  }
}

export function liveItems(run: TaskRun | undefined): ThreadItem[] {
  return run
    ? [...run.unsaved.values(), ...run.live.values()]
        .filter((i) => i.kind !== 'assistant' || i.text)
        .map((i) => ({ ...i }) as ThreadItem)
    : [];
}

export type { WireMessage };
