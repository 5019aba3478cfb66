// The agent loop: one function, its dependencies injected (model client, tools, abort signal, an
// event sink that persists and publishes, budgets). It knows nothing about threads on disk or the
// network; the task runner (runner.ts) gives it a sink.
//
// A turn = one model reply plus the results of the tools it asked for. The loop keeps the
// conversation in `state`; the sink makes it durable at the points the loop names:
//   toolsPlanned (the reply is in, tools about to run) → toolStarted / toolFinished per call →
//   checkpoint (turn committed to state.messages).
// Resuming with `state.inflight` set finishes that turn without re-running a call that started.
import type { ToolStepState, Usage } from '../../../shared/src/index.js';
import { fitContext, normalizeMessages } from './context-window.js';
import { addUsage, costUsd, emptyUsage } from './pricing.js';
import { ASK_USER, askUserTool } from './prompt.js';
import { backoffMs, classify, IncompleteStreamError, StalledStreamError } from './retry.js';
import type { ToolCallOutcome, ToolRuntime } from './tool-runtime.js';
import type { ImageBlock, ModelClient, ModelRequest, StreamEvent, TextBlock, ToolResultBlock, ToolUseBlock, WireBlock, WireMessage, WireTool } from './wire.js';

export interface Budgets {
  maxTurns: number;
  maxOutputTokens: number;
  maxWallMs: number;
  maxCostUsd: number;
}

export interface LoopSettings {
  model: string;
  maxTokens: number;
  contextTokens: number;
  /** Total time model calls of one turn may spend retrying. */
  retryWindowMs: number;
  /** First backoff step; doubles per attempt. */
  retryBaseMs: number;
  /** An attempt with no stream event for this long is abandoned and retried. Default 180 s. */
  stallMs?: number;
}

export interface StoredResult { content: Array<TextBlock | ImageBlock>; isError: boolean }

/** A turn whose reply is in but whose tool results are not all in yet. */
export interface Inflight {
  assistant: WireBlock[];
  /** tool_use ids whose run has started (durably recorded before the run). */
  started: string[];
  results: Record<string, StoredResult>;
}

export interface LoopState {
  /** The thread's whole conversation, committed turns only. */
  messages: WireMessage[];
  inflight?: Inflight;
  turns: number;
  usage: Usage;
  costUsd: number;
  tainted: boolean;
}

export interface ToolStep { id: string; name: string; input: unknown; summary: string }
export interface StepEnd { state: ToolStepState; summary?: string; output?: string }

export interface LoopSink {
  /** A text block starts streaming: returns the id of its thread item. */
  textStart(): string;
  textDelta(itemId: string, delta: string): void;
  /** A text block ended: persist its full text. */
  textEnd(itemId: string, text: string): Promise<void>;
  /** A retried attempt starts over: the item's text is cleared and will stream again. */
  textReset(itemId: string): void;
  /** The reply asked for these tools; state.inflight is set. Durable. */
  toolsPlanned(steps: ToolStep[]): Promise<void>;
  /** Durable before the call runs. */
  toolStarted(step: ToolStep): Promise<void>;
  /** state.inflight.results has the result. Durable. */
  toolFinished(step: ToolStep, end: StepEnd): Promise<void>;
  describe(step: ToolStep, summary: string): void;
  /** The turn is committed to state.messages. Durable. */
  checkpoint(): Promise<void>;
  /** Usage or turns changed. */
  progress(): void;
  /** Ask the user (the ask_user tool); resolves with the answer, rejects when the task is aborted. */
  ask(question: string, step: ToolStep, signal: AbortSignal): Promise<string>;
  setWaiting(waiting: boolean): Promise<void>;
  retrying(message: string, delayMs: number): void;
}

export type AbortWhy = 'cancel' | 'shutdown';

export type LoopResult =
  | { kind: 'done'; text: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'aborted'; why: AbortWhy };

export interface LoopOptions {
  model: ModelClient;
  tools: ToolRuntime;
  /** Aborted with reason 'cancel' or 'shutdown'. */
  signal: AbortSignal;
  sink: LoopSink;
  budgets: Budgets;
  settings: LoopSettings;
  system: TextBlock[];
  state: LoopState;
  taskId: string;
  threadId: string;
  /** How long a tool may take to return after an abort before the loop stops waiting for it. */
  toolAbortGraceMs?: number;
}

export const UNKNOWN_OUTCOME = 'outcome unknown: Errand stopped while this ran; check before retrying';
const INVALID_INPUT = '__errand_invalid_json';

/** Wall-clock budget that does not count time spent waiting for a person. */
class WallClock {
  private usedMs = 0;
  private since: number | undefined = Date.now();
  private timer: NodeJS.Timeout | undefined;
  readonly controller = new AbortController();
  constructor(private readonly limitMs: number) { this.arm(); }
  private arm(): void {
    const left = Math.max(0, this.limitMs - this.usedMs);
    this.timer = setTimeout(() => this.controller.abort('budget'), left);
  }
  pause(): void {
    if (this.since === undefined) return;
    this.usedMs += Date.now() - this.since;
    this.since = undefined;
    clearTimeout(this.timer);
  }
  resume(): void {
    if (this.since !== undefined) return;
    this.since = Date.now();
    this.arm();
  }
  elapsedMs(): number { return this.usedMs + (this.since === undefined ? 0 : Date.now() - this.since); }
  stop(): void { clearTimeout(this.timer); }
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) return resolve();
  const t = setTimeout(done, ms);
  function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
  signal.addEventListener('abort', done, { once: true });
});

function fmt(n: number): string { return n.toLocaleString('en-US'); }
function plural(n: number, one: string, many = `${one}s`): string { return `${fmt(n)} ${n === 1 ? one : many}`; }
function minutes(ms: number): string {
  const m = ms / 60_000;
  return m >= 1 ? plural(Math.round(m * 10) / 10, 'minute') : plural(Math.max(1, Math.round(ms / 1000)), 'second');
}

export function textOf(blocks: WireBlock[]): string {
  return blocks.filter((b): b is TextBlock => b.type === 'text').map((b) => b.text).join('\n\n').trim();
}

function resultText(r: StoredResult): string {
  return r.content.filter((c): c is TextBlock => c.type === 'text').map((c) => c.text).join('\n');
}

/** Run the loop until the task is done, fails, or is aborted. Never throws for model or tool failures. */
export async function runAgentLoop(opts: LoopOptions): Promise<LoopResult> {
  const { state, sink, budgets, settings, tools } = opts;
  const wall = new WallClock(budgets.maxWallMs);
  const signal = AbortSignal.any([opts.signal, wall.controller.signal]);
  const base = { turns: state.turns, output: state.usage.outputTokens, cost: state.costUsd };
  const grace = opts.toolAbortGraceMs ?? 1000;

  const abortWhy = (): AbortWhy | 'budget' | undefined => {
    if (opts.signal.aborted) return opts.signal.reason === 'shutdown' ? 'shutdown' : 'cancel';
    if (wall.controller.signal.aborted) return 'budget';
    return undefined;
  };
  const wallReason = () => `Stopped after ${minutes(wall.elapsedMs())} of work (limit: agent.maxWallMinutes = ${fmt(budgets.maxWallMs / 60_000)}).`;
  const waiting = async (w: boolean) => {
    if (w) wall.pause(); else wall.resume();
    await sink.setWaiting(w);
  };

  const toolDefs: WireTool[] = [
    ...tools.definitions().map((d) => ({ name: d.name, description: d.description, input_schema: d.input_schema as Record<string, unknown> })),
    { ...askUserTool },
  ];
  toolDefs[toolDefs.length - 1] = { ...toolDefs[toolDefs.length - 1], cache_control: { type: 'ephemeral' } };

  // A turn's checkpoint is durable before the next model call starts (a crash mid-call must not
  // lose a finished tool's result). Kept as a promise so every exit path awaits it.
  let pendingCheckpoint: Promise<void> | undefined;
  const settleCheckpoint = async () => {
    const p = pendingCheckpoint;
    pendingCheckpoint = undefined;
    if (p) await p;
  };
  const finish = (r: LoopResult): LoopResult => { wall.stop(); return r; };
  const aborted = (): LoopResult => {
    const why = abortWhy();
    if (why === 'budget') return finish({ kind: 'failed', reason: wallReason() });
    return finish({ kind: 'aborted', why: why ?? 'cancel' });
  };

  try {
    if (state.inflight) {
      const r = await runTools(state.inflight);
      if (r === 'stopped') return aborted();
      commitTurn();
      await settleCheckpoint();
      if (signal.aborted) return aborted();
    }
    for (;;) {
      if (signal.aborted) { await settleCheckpoint(); return aborted(); }
      const turnsThis = state.turns - base.turns;
      if (turnsThis >= budgets.maxTurns) {
        return finish({ kind: 'failed', reason: `Stopped after ${plural(turnsThis, 'turn')} (limit: agent.maxTurns = ${fmt(budgets.maxTurns)}).` });
      }
      const outThis = state.usage.outputTokens - base.output;
      if (outThis >= budgets.maxOutputTokens) {
        return finish({ kind: 'failed', reason: `Stopped after ${plural(outThis, 'output token')} (limit: agent.maxOutputTokens = ${fmt(budgets.maxOutputTokens)}).` });
      }
      const costThis = state.costUsd - base.cost;
      if (costThis >= budgets.maxCostUsd) {
        return finish({ kind: 'failed', reason: `Stopped after spending about $${costThis.toFixed(2)} (limit: agent.maxCostUsd = $${budgets.maxCostUsd.toFixed(2)}).` });
      }

      const request = buildRequest();
      if ('failed' in request) { await settleCheckpoint(); return finish({ kind: 'failed', reason: request.failed }); }
      const reply = await callModel(request);
      await settleCheckpoint();
      if (reply.kind === 'aborted') {
        if (opts.signal.reason !== 'shutdown' && reply.partial.length) {
          // Keep what the model had said before the cancel, so a follow-up has it.
          state.messages.push({ role: 'assistant', content: reply.partial });
          await sink.checkpoint();
        }
        return aborted();
      }
      if (reply.kind === 'failed') return finish({ kind: 'failed', reason: reply.reason });

      const { content, stopReason } = reply;
      const toolUses = content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      if (stopReason === 'refusal') {
        if (content.length) state.messages.push({ role: 'assistant', content });
        state.turns++;
        await sink.checkpoint();
        return finish({ kind: 'failed', reason: 'The model declined to continue this task.' });
      }
      if (toolUses.length && (stopReason === 'tool_use' || stopReason === 'max_tokens')) {
        state.inflight = { assistant: content, started: [], results: {} };
        await sink.toolsPlanned(toolUses.map(stepOf));
        const r = await runTools(state.inflight);
        if (r === 'stopped') return aborted();
        commitTurn();
        await settleCheckpoint();
        continue;
      }
      if (!content.length) content.push({ type: 'text', text: '(no reply)' });
      state.messages.push({ role: 'assistant', content });
      state.turns++;
      await sink.checkpoint();
      if (stopReason === 'pause_turn') continue;
      if (stopReason === 'model_context_window_exceeded') {
        return finish({ kind: 'failed', reason: 'The conversation no longer fits in the model\'s context window. Start a new thread for the next step.' });
      }
      return finish({ kind: 'done', text: textOf(content) });
    }
  } finally {
    wall.stop();
    // Never leave a checkpoint write behind (its failure is the task's failure).
    await settleCheckpoint();
  }

  function stepOf(b: ToolUseBlock): ToolStep {
    const invalid = typeof b.input === 'object' && b.input !== null && INVALID_INPUT in (b.input as object);
    const summary = b.name === ASK_USER
      ? `Asked: ${String((b.input as { question?: unknown })?.question ?? '').slice(0, 120)}`
      : invalid ? `${b.name} (input cut off)` : tools.summarize(b.name, b.input);
    return { id: b.id, name: b.name, input: b.input, summary };
  }

  function commitTurn(): void {
    const inflight = state.inflight!;
    const results: ToolResultBlock[] = inflight.assistant
      .filter((b): b is ToolUseBlock => b.type === 'tool_use')
      .map((b) => {
        const r = inflight.results[b.id];
        return { type: 'tool_result', tool_use_id: b.id, content: r.content, ...(r.isError ? { is_error: true } : {}) };
      });
    state.messages.push({ role: 'assistant', content: inflight.assistant }, { role: 'user', content: results });
    state.inflight = undefined;
    state.turns++;
    pendingCheckpoint = sink.checkpoint();
    pendingCheckpoint.catch(() => undefined); // observed by settleCheckpoint
  }

  /** Runs the calls of a turn that have no result yet. 'stopped' = the daemon is stopping; leave the rest. */
  async function runTools(inflight: Inflight): Promise<'complete' | 'stopped'> {
    for (const b of inflight.assistant) {
      if (b.type !== 'tool_use' || inflight.results[b.id]) continue;
      const step = stepOf(b);
      const why = abortWhy();
      if (why === 'shutdown') return 'stopped';
      if (why) {
        await record(step, { content: [{ type: 'text', text: `Not run: ${why === 'cancel' ? 'the user cancelled the task' : 'the task hit its time limit'}.` }], isError: true }, { state: 'error', output: 'Not run (cancelled)' });
        continue;
      }
      if (inflight.started.includes(b.id) && b.name !== ASK_USER) {
        // Started before a crash or stop, never finished: report, never re-run silently.
        await record(step, { content: [{ type: 'text', text: UNKNOWN_OUTCOME }], isError: true }, { state: 'unknown', output: UNKNOWN_OUTCOME });
        continue;
      }
      if (typeof b.input === 'object' && b.input !== null && INVALID_INPUT in (b.input as object)) {
        await record(step, { content: [{ type: 'text', text: 'The tool input was not complete JSON (the reply was probably cut off at max_tokens). Send the call again with complete input.' }], isError: true }, { state: 'error', output: 'Input was cut off' });
        continue;
      }
      if (!inflight.started.includes(b.id)) inflight.started.push(b.id);
      await sink.toolStarted(step);
      if (b.name === ASK_USER) {
        const question = String((b.input as { question?: unknown })?.question ?? '').trim() || 'The agent needs your input to continue.';
        wall.pause();
        let answer: string | undefined;
        try {
          answer = await sink.ask(question, step, signal);
        } catch {
          answer = undefined;
        } finally {
          wall.resume();
        }
        if (answer === undefined) {
          if (abortWhy() === 'shutdown') return 'stopped';
          await record(step, { content: [{ type: 'text', text: 'No answer: the task was cancelled.' }], isError: true }, { state: 'error', output: 'No answer (cancelled)' });
          continue;
        }
        await record(step, { content: [{ type: 'text', text: `The user answered: ${answer}` }], isError: false }, { state: 'completed', output: answer });
        continue;
      }
      const outcome = await runOne(step);
      if (outcome === 'gone') {
        if (abortWhy() === 'shutdown') return 'stopped';
        await record(step, { content: [{ type: 'text', text: 'Cancelled while this was running; it may have partly completed.' }], isError: true }, { state: 'error', output: 'Cancelled while running' });
        continue;
      }
      if (outcome.tainted) state.tainted = true;
      await record(step, { content: outcome.content.length ? outcome.content : [{ type: 'text', text: '(no output)' }], isError: outcome.isError }, {
        state: outcome.state, summary: outcome.summary, output: outcome.output ?? resultText({ content: outcome.content, isError: outcome.isError }),
      });
    }
    return 'complete';
  }

  async function record(step: ToolStep, result: StoredResult, end: StepEnd): Promise<void> {
    state.inflight!.results[step.id] = result;
    await sink.toolFinished(step, end);
  }

  /** One tool call; 'gone' when the task was aborted and the tool did not return within the grace time. */
  async function runOne(step: ToolStep): Promise<ToolCallOutcome | 'gone'> {
    const run = tools.run({ id: step.id, name: step.name, input: step.input }, {
      taskId: opts.taskId,
      threadId: opts.threadId,
      signal,
      tainted: state.tainted,
      setWaiting: waiting,
      describe: (summary) => sink.describe(step, summary),
    }).catch((err: unknown): ToolCallOutcome => ({
      content: [{ type: 'text', text: `The tool failed: ${(err as Error)?.message ?? String(err)}` }], isError: true, state: 'error',
    }));
    let onAbort: (() => void) | undefined;
    const gone = new Promise<'gone'>((resolve) => {
      onAbort = () => setTimeout(() => resolve('gone'), grace).unref();
      if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([run, gone]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  function buildRequest(): ModelRequest | { failed: string } {
    const reserve = settings.maxTokens;
    const fit = fitContext({ system: opts.system, tools: toolDefs, messages: state.messages }, settings.contextTokens - reserve);
    if (!fit.fits) {
      return { failed: `The conversation (about ${fmt(fit.tokens)} tokens) no longer fits in the model's context (anthropic.contextTokens = ${fmt(settings.contextTokens)}). Start a new thread for the next step.` };
    }
    const messages = normalizeMessages(state.messages);
    // Cache the conversation prefix too: mark the last block of the last message.
    const last = messages.at(-1);
    if (last && last.content.length) {
      const content = [...last.content];
      content[content.length - 1] = { ...content[content.length - 1], cache_control: { type: 'ephemeral' } } as WireBlock;
      messages[messages.length - 1] = { role: last.role, content };
    }
    return { model: settings.model, max_tokens: settings.maxTokens, system: opts.system, tools: toolDefs, messages };
  }

  type Reply =
    | { kind: 'ok'; content: WireBlock[]; stopReason: string }
    | { kind: 'failed'; reason: string }
    | { kind: 'aborted'; partial: WireBlock[] };

  async function callModel(request: ModelRequest): Promise<Reply> {
    const started = Date.now();
    let reuse: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const r = await streamOnce(request, reuse);
      if (r.kind === 'ok') return r;
      if (signal.aborted) {
        await Promise.all(r.items.map((it) => sink.textEnd(it.itemId, it.text)));
        return { kind: 'aborted', partial: r.items.filter((it) => it.text).map((it) => ({ type: 'text', text: it.text })) };
      }
      const f = classify(r.error, settings.model);
      if (!f.retryable) {
        await Promise.all(r.items.map((it) => sink.textEnd(it.itemId, it.text)));
        return { kind: 'failed', reason: f.message };
      }
      const delay = Math.max(f.retryAfterMs ?? 0, backoffMs(attempt, settings.retryBaseMs));
      const spent = Date.now() - started;
      if (spent + delay > settings.retryWindowMs) {
        await Promise.all(r.items.map((it) => sink.textEnd(it.itemId, it.text)));
        const window = Math.round(settings.retryWindowMs / 1000);
        return { kind: 'failed', reason: `${f.message} Errand retried for ${plural(Math.max(1, Math.round(spent / 1000)), 'second')} (limit: agent.retryWindowSeconds = ${window}) and gave up; retry the task later.` };
      }
      sink.retrying(f.message, delay);
      for (const it of r.items) sink.textReset(it.itemId);
      reuse = r.items.map((it) => it.itemId);
      await sleep(delay, signal);
      if (signal.aborted) return { kind: 'aborted', partial: [] };
    }
  }

  interface Block { type: string; text: string; itemId?: string; id?: string; name?: string; json: string; done: boolean }
  type Attempt =
    | { kind: 'ok'; content: WireBlock[]; stopReason: string }
    | { kind: 'error'; error: unknown; items: Array<{ itemId: string; text: string }> };

  async function streamOnce(request: ModelRequest, reuse: string[]): Promise<Attempt> {
    const blocks = new Map<number, Block>();
    const persists: Promise<void>[] = [];
    let stopReason = 'end_turn';
    const usage = emptyUsage();
    let sawStop = false;
    const onEvent = (ev: StreamEvent) => {
      switch (ev.type) {
        case 'message_start': {
          const u = ev.message.usage ?? {};
          usage.inputTokens = u.input_tokens ?? 0;
          usage.cacheReadTokens = u.cache_read_input_tokens ?? 0;
          usage.cacheWriteTokens = u.cache_creation_input_tokens ?? 0;
          usage.outputTokens = u.output_tokens ?? 0;
          break;
        }
        case 'content_block_start': {
          const cb = ev.content_block;
          const b: Block = { type: cb.type, text: cb.text ?? '', json: '', done: false, id: cb.id, name: cb.name };
          if (cb.type === 'text') {
            b.itemId = reuse.shift() ?? sink.textStart();
            if (b.text) sink.textDelta(b.itemId, b.text);
          }
          blocks.set(ev.index, b);
          break;
        }
        case 'content_block_delta': {
          const b = blocks.get(ev.index);
          if (!b) break;
          if (ev.delta.type === 'text_delta' && ev.delta.text) {
            b.text += ev.delta.text;
            sink.textDelta(b.itemId!, ev.delta.text);
          } else if (ev.delta.type === 'input_json_delta' && ev.delta.partial_json) {
            b.json += ev.delta.partial_json;
          }
          break;
        }
        case 'content_block_stop': {
          const b = blocks.get(ev.index);
          if (!b) break;
          b.done = true;
          if (b.type === 'text') persists.push(sink.textEnd(b.itemId!, b.text));
          break;
        }
        case 'message_delta': {
          if (ev.delta.stop_reason) stopReason = ev.delta.stop_reason;
          const u = ev.usage;
          if (u) {
            if (u.output_tokens != null) usage.outputTokens = u.output_tokens;
            if (u.input_tokens != null) usage.inputTokens = u.input_tokens;
            if (u.cache_read_input_tokens != null) usage.cacheReadTokens = u.cache_read_input_tokens;
            if (u.cache_creation_input_tokens != null) usage.cacheWriteTokens = u.cache_creation_input_tokens;
          }
          break;
        }
        case 'message_stop':
          sawStop = true;
          break;
      }
    };
    // A watchdog per attempt: a connection that stays open but sends nothing is abandoned.
    const stallMs = settings.stallMs ?? 180_000;
    const attempt = new AbortController();
    let stalled = false;
    const watchdog = setTimeout(() => { stalled = true; attempt.abort('stalled'); }, stallMs);
    const onEventWatched = (ev: StreamEvent) => { watchdog.refresh(); onEvent(ev); };
    let error: unknown;
    try {
      await opts.model.stream(request, { signal: AbortSignal.any([signal, attempt.signal]), onEvent: onEventWatched });
    } catch (err) {
      error = err;
    } finally {
      clearTimeout(watchdog);
    }
    if (stalled && !signal.aborted) error = new StalledStreamError(stallMs);
    await Promise.allSettled(persists);
    state.usage = addUsage(state.usage, usage);
    state.costUsd = costUsd(settings.model, state.usage);
    if (error !== undefined || !sawStop || signal.aborted) {
      sink.progress();
      const items = [...blocks.values()].filter((b) => b.type === 'text' && b.itemId).map((b) => ({ itemId: b.itemId!, text: b.text }));
      return { kind: 'error', error: error ?? new IncompleteStreamError(), items };
    }
    const content: WireBlock[] = [];
    for (const [, b] of [...blocks.entries()].sort((x, y) => x[0] - y[0])) {
      if (b.type === 'text') {
        if (b.text) content.push({ type: 'text', text: b.text });
        else await sink.textEnd(b.itemId!, '');
      } else if (b.type === 'tool_use') {
        let input: unknown = {};
        try {
          input = b.json.trim() ? JSON.parse(b.json) : {};
          if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('not an object');
        } catch {
          input = { [INVALID_INPUT]: b.json.slice(0, 2000) };
        }
        content.push({ type: 'tool_use', id: b.id!, name: b.name!, input });
      }
      // Other block types (thinking …) are not requested and not kept.
    }
    return { kind: 'ok', content, stopReason };
  }
}

