// The agent loop: one function, its dependencies injected (model client, tools, abort signal,
// budgets, one `emit` for what happens and hooks for asking the person). It knows nothing about
// threads on disk or the network; the task runner (runner.ts) records its events (recorder.ts).
//
// A turn = one model reply plus the results of the tools it asked for. The loop keeps the
// conversation in `state`; the recorder makes it durable at the events the loop emits:
//   tools.planned (the reply is in, tools about to run) → tool.started / tool.finished per call →
//   checkpoint (turn committed to state.messages).
// Resuming with `state.inflight` set finishes that turn without re-running a call that started.
import { plural } from '../../../shared/src/index.js';
import { FETCH_WITHDRAWN_NOTICE } from '../../../shared/src/web-fetch-words.js';
import { type CallCheck, callEstimateUsd, checkCall } from './call-check.js';
import { fitContext, normalizeMessages } from './context-window.js';
import { modelFeatures } from './features.js';
import { callModel, type Reply } from './model-call.js';
import { ASK_USER } from './prompt.js';
import { invalidInputAnswer } from './reply-checks.js';
import { RunawayWatch } from './runaway.js';
import type { ContinueAnswer, ContinueRequest, TaskToolContext, ToolCallOutcome, ToolRuntime } from './tool-runtime.js';
import {
  countUses,
  noteBlock,
  pendingServerCalls,
  pendingUses,
  personGaveUrl,
  readsWeb,
  type WebSettings,
  webTools,
} from './web-tools.js';
import type {
  ModelClient,
  ModelRequest,
  TextBlock,
  ToolResultBlock,
  ToolUseBlock,
  WireBlock,
  WireMessage,
} from './wire.js';
import { wireTools } from './wire-tools.js';

export type {
  AbortWhy,
  Budgets,
  Emit,
  Inflight,
  LoopEvent,
  LoopHooks,
  LoopResult,
  LoopSettings,
  LoopState,
  StepEnd,
  StoredResult,
  ToolStep,
} from './loop-types.js';

import {
  type AbortWhy,
  type Budgets,
  type Emit,
  type Inflight,
  type LoopHooks,
  type LoopResult,
  type LoopSettings,
  type LoopState,
  type StepEnd,
  type StoredResult,
  snapshot,
  type ToolStep,
} from './loop-types.js';

export interface LoopOptions {
  model: ModelClient;
  tools: ToolRuntime;
  /** Aborted with reason 'cancel' or 'shutdown'. */
  signal: AbortSignal;
  /** What happens, in order (loop-types.ts LoopEvent); awaited where durability matters. */
  emit: Emit;
  hooks: LoopHooks;
  budgets: Budgets;
  settings: LoopSettings;
  system: TextBlock[];
  state: LoopState;
  /**
   * The model is sent the conversation from this message on (a scheduled run: its own part only).
   * The state keeps the whole conversation, which the thread keeps.
   */
  contextFrom?: number;
  taskId: string;
  threadId: string;
  /** How long a tool may take to return after an abort before the loop stops waiting for it. */
  toolAbortGraceMs?: number;
  /**
   * A daily or monthly spending cap reached (the sentence saying so), asked before each model call
   * with the call riding along (call-check.ts): a running task pauses and asks whether to go
   * on past it, again for another cap, a new day or month, or once it spent one more cap's worth.
   */
  capReached?: () => string | undefined;
  /** The API's web tools (server tools); absent = off. */
  web?: {
    settings: WebSettings;
    /** The user allowed web fetch for this task although the thread is tainted (asked before each call). */
    fetchAllowed?: () => boolean;
    /** The endpoint refused server tools: turn them off for it (the loop carries on without). */
    refused?: (reason: string) => void;
    /** Uses the task made before this run (a resume): the per-task limit counts them. */
    used?: { searches: number; fetches: number };
  };
}

export const WEB_OFF_NOTICE =
  'This model endpoint does not support web search and web fetch, so Errand turned them off for it and carried on without them.';

/**
 * The share of the window requests are fitted to, for the rest of the run, each time the API says
 * a prompt is too long: the estimate ran low for this conversation (text denser than it counts).
 */
const TOO_LONG_SHRINK = 0.75;
export const TOO_LONG_NOTICE =
  "The model API said the conversation was too long for the model's context; Errand shortened tool output in it and tried again.";

/** The waiver key of a cap whose check did not say which cap it is. */
const UNKNOWN_CAP = 'cap';

export const UNKNOWN_OUTCOME = 'outcome unknown: Errand stopped while this ran; check before retrying';

/**
 * Tool calls run from one reply; the rest are answered with an error the model can read, never
 * planned as steps: a reply of thousands of calls would otherwise cost memory and time per call
 * for each one (a reply of 4,000 ran the daemon out of memory).
 */
export const MAX_CALLS_PER_REPLY = 64;
const tooManyCalls = (n: number): StoredResult => ({
  content: [
    {
      type: 'text',
      text: `Not run: one reply may make at most ${MAX_CALLS_PER_REPLY} tool calls and this one made ${n}. Make the calls that are still needed in your next reply.`,
    },
  ],
  isError: true,
});

/** Wall-clock budget that does not count time spent waiting for a person. */
class WallClock {
  private usedMs = 0;
  private since: number | undefined = Date.now();
  private timer: NodeJS.Timeout | undefined;
  readonly controller = new AbortController();
  constructor(private readonly limitMs: number) {
    this.arm();
  }
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
  elapsedMs(): number {
    return this.usedMs + (this.since === undefined ? 0 : Date.now() - this.since);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
function minutes(ms: number): string {
  const m = ms / 60_000;
  return m >= 1 ? plural(Math.round(m * 10) / 10, 'minute') : plural(Math.max(1, Math.round(ms / 1000)), 'second');
}

export function textOf(blocks: WireBlock[]): string {
  return blocks
    .filter((b): b is TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('\n\n')
    .trim();
}

function resultText(r: StoredResult): string {
  return r.content
    .filter((c): c is TextBlock => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

/** Run the loop until the task is done, fails, or is aborted. Never throws for model or tool failures. */
export async function runAgentLoop(opts: LoopOptions): Promise<LoopResult> {
  const { state, emit, hooks, budgets, settings, tools } = opts;
  const wall = new WallClock(budgets.maxWallMs);
  // Aborted by a cancel or shutdown, or by the wall-clock budget, whichever comes first (listeners:
  // cheaper per run than AbortSignal.any, which Node 20 tracks for its whole life).
  const either = new AbortController();
  for (const source of [opts.signal, wall.controller.signal]) {
    if (source.aborted) either.abort(source.reason);
    else source.addEventListener('abort', () => either.abort(source.reason), { once: true });
  }
  const signal = either.signal;
  const base = { turns: state.turns, output: state.usage.outputTokens };
  const grace = opts.toolAbortGraceMs ?? 1000;

  const abortWhy = (): AbortWhy | 'budget' | undefined => {
    if (opts.signal.aborted) return opts.signal.reason === 'shutdown' ? 'shutdown' : 'cancel';
    if (wall.controller.signal.aborted) return 'budget';
    return undefined;
  };
  const wallReason = () =>
    `Stopped after ${minutes(wall.elapsedMs())} of work (limit: agent.maxWallMinutes = ${fmt(budgets.maxWallMs / 60_000)}).`;
  const waiting = async (w: boolean) => {
    if (w) wall.pause();
    else wall.resume();
    await hooks.setWaiting(w);
  };
  // At a spending limit or a suspected runaway the task pauses and asks (when the runtime can ask;
  // without it the old rule holds: a limit ends the task).
  // The limit is on the task's whole cost (all its runs): a resume or a restart never starts it afresh.
  // What the person let it spend past the limit ("continue for +$X"): the limit counts from there.
  const perTaskLimit = () => budgets.currentMaxCostUsd?.() ?? budgets.maxCostUsd;
  /**
   * Caps the person let this run go past (the cap with its day or month, call-check.ts capKey),
   * from the task's cost at the approval up to that plus the cap's amount: past it (after at least
   * one call) the question comes again, like the per-task limit's "+$X", so one approval never
   * means unbounded spend.
   */
  const capWaivers = new Map<string, { fromUsd: number; upToUsd: number }>();
  const runaway = new RunawayWatch();
  const mayContinue = async (req: ContinueRequest): Promise<ContinueAnswer> => {
    if (!tools.askToContinue) return 'stop';
    await waiting(true);
    let answer: ContinueAnswer;
    try {
      answer = await tools.askToContinue(
        { ...req, at: `${state.sentAgain ?? 0}.${state.turns}` },
        { taskId: opts.taskId, threadId: opts.threadId, signal: opts.signal },
      );
    } catch {
      answer = 'stop';
    }
    if (opts.signal.aborted) return 'cancelled';
    await waiting(false);
    return answer;
  };
  const stoppedBecause = (reason: string, answer: ContinueAnswer) =>
    !tools.askToContinue
      ? reason
      : `${reason} ${answer === 'expired' ? 'Nobody answered whether to continue.' : 'You chose to stop it.'}`;

  const defs = tools.definitions();
  const readOnlyTools = new Set(defs.filter((d) => d.readOnly).map((d) => d.name));
  const reportsStart = new Set(defs.filter((d) => d.reportsStart).map((d) => d.name));
  /** What this turn's read-only calls still write elsewhere (audit): the checkpoint waits for it. */
  const turnDurable: Array<Promise<void>> = [];
  const toolDefs = wireTools(defs);

  let webOff = false;
  let toldFetchWithdrawn = false;
  /**
   * A page is in play: the person's message gives a URL, or the conversation holds web results.
   * Worked out once here and kept current as replies come (not rescanned at every request).
   */
  let webInPlay =
    personGaveUrl(state.messages) || state.messages.some((m) => m.role === 'assistant' && readsWeb(m.content));
  const webUses = { searches: opts.web?.used?.searches ?? 0, fetches: opts.web?.used?.fetches ?? 0 };
  /** Lowered when the API refuses a prompt as too long; `tooLongAgain`: the call was just retried for it. */
  let contextShare = 1;
  let tooLongAgain = false;
  /** The estimate of the last request built. */
  let fittedTokens = 0;

  // A turn's checkpoint is durable before the next model call starts (a crash mid-call must not
  // lose a finished tool's result), except after a turn of read-only calls: losing it only means
  // reading again, so it is written while the next call goes out (its events still leave only once
  // it is durable). Kept as a promise so every exit path awaits it. `pendingAudit`: the audit
  // entries of read-only calls, durable before their results go out to the model.
  let pendingCheckpoint: Promise<void> | undefined;
  let pendingAudit: Promise<unknown> | undefined;
  const settleAudit = async () => {
    const p = pendingAudit;
    pendingAudit = undefined;
    if (p) await p;
  };
  const settleCheckpoint = async () => {
    await settleAudit();
    const p = pendingCheckpoint;
    pendingCheckpoint = undefined;
    if (p) await p;
  };
  const finish = (r: LoopResult): LoopResult => {
    wall.stop();
    return r;
  };
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
      if (signal.aborted) {
        await settleCheckpoint();
        return aborted();
      }
      const turnsThis = state.turns - base.turns;
      if (turnsThis >= budgets.maxTurns) {
        return finish({
          kind: 'failed',
          reason: `Stopped after ${plural(turnsThis, 'turn')} (limit: agent.maxTurns = ${fmt(budgets.maxTurns)}).`,
        });
      }
      const outThis = state.usage.outputTokens - base.output;
      if (outThis >= budgets.maxOutputTokens) {
        return finish({
          kind: 'failed',
          reason: `Stopped after ${plural(outThis, 'output token')} (limit: agent.maxOutputTokens = ${fmt(budgets.maxOutputTokens)}).`,
        });
      }
      const costThis = state.costUsd;
      const perTask = perTaskLimit();
      const costLimit = perTask + (state.costRaisedUsd ?? 0);
      if (!(costThis < costLimit)) {
        const reason = `Stopped after spending about $${costThis.toFixed(2)} (limit: ${budgets.costLimitName ?? 'agent.maxCostUsd'} = $${costLimit.toFixed(2)}).`;
        const answer = await mayContinue({
          kind: 'spend',
          summary: `Used $${costThis.toFixed(2)} of $${costLimit.toFixed(2)} — continue for +$${perTask.toFixed(2)}?`,
          details: { usedUsd: Math.round(costThis * 100) / 100, limitUsd: costLimit, raiseByUsd: perTask },
        });
        if (answer === 'cancelled') return aborted();
        if (answer !== 'continue' || perTask <= 0)
          return finish({ kind: 'failed', reason: stoppedBecause(reason, answer) });
        // "+$2" is $2 more from what it has spent now; kept with the task (its next checkpoint).
        state.costRaisedUsd = costThis;
      }

      const request = buildRequest();
      if ('failed' in request) {
        await settleCheckpoint();
        return finish({ kind: 'failed', reason: request.failed });
      }
      // Nothing awaits between the check and the call: its reservation is for this call only.
      const call = checkCaps(request);
      if (call.cap) {
        const answer = await mayContinue({
          kind: 'spend',
          summary: `${call.cap} Let this task go on anyway?`,
          // The cap's day or month is part of the question: a kept answer for one day's cap is not the next day's.
          details: {
            cap: call.cap,
            usedUsd: Math.round(state.costUsd * 100) / 100,
            ...(call.reached ? { period: call.reached.key } : {}),
          },
        });
        if (answer === 'cancelled') return aborted();
        if (answer !== 'continue') return finish({ kind: 'failed', reason: stoppedBecause(call.cap, answer) });
        capWaivers.set(call.reached?.key ?? UNKNOWN_CAP, {
          fromUsd: state.costUsd,
          upToUsd: state.costUsd + (call.reached?.limitUsd ?? Number.POSITIVE_INFINITY),
        });
        continue; // checked again from the top: another cap may be reached too
      }
      if (call.wait) {
        await untilOrAborted(call.wait);
        continue;
      }
      let reply: Reply;
      try {
        reply = await callModel(
          { model: opts.model, signal, emit, settings, state, redactor: tools.redactor?.bind(tools) },
          request,
        );
      } finally {
        call.settle?.(state.costUsd);
      }
      await settleCheckpoint();
      if (reply.kind === 'too-long') {
        if (tooLongAgain) {
          return finish({
            kind: 'failed',
            reason: `The conversation no longer fits in the model's context: the model API refused it as too long even after Errand shortened it to about ${fmt(fittedTokens)} tokens (anthropic.contextTokens = ${fmt(settings.contextTokens)}). Start a new thread for the next step.`,
          });
        }
        tooLongAgain = true;
        contextShare *= TOO_LONG_SHRINK;
        void emit({ type: 'notice', text: TOO_LONG_NOTICE });
        continue;
      }
      tooLongAgain = false;
      if (reply.kind === 'no-server-tools') {
        webOff = true;
        opts.web?.refused?.(reply.reason);
        void emit({ type: 'notice', text: WEB_OFF_NOTICE });
        continue;
      }
      if (reply.kind === 'aborted') {
        if (opts.signal.reason !== 'shutdown' && reply.partial.length) {
          // Keep what the model had said before the cancel, so a follow-up has it.
          state.messages.push({ role: 'assistant', content: reply.partial });
          await checkpoint();
        }
        return aborted();
      }
      if (reply.kind === 'failed') return finish({ kind: 'failed', reason: reply.reason });

      const { content, stopReason } = reply;
      // Web results are untrusted text in the conversation from now on.
      if (readsWeb(content)) state.tainted = webInPlay = true;
      const used = countUses(content);
      webUses.searches += used.searches;
      webUses.fetches += used.fetches;
      const toolUses = content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      // The task goes on tainted, so its next request withholds fetch: said now, since the reply may
      // first wait on a question (a reply that ends the task had fetch withheld from nothing).
      if (state.tainted && toolUses.length)
        tellFetchWithdrawn(webFor([...state.messages, { role: 'assistant', content }]).note);
      if (stopReason === 'refusal') {
        if (content.length) state.messages.push({ role: 'assistant', content });
        state.turns++;
        await checkpoint();
        return finish({ kind: 'failed', reason: 'The model declined to continue this task.' });
      }
      // Any tool_use in the reply gets its result (whatever the stop reason), so the history stays valid.
      if (toolUses.length) {
        const calls = toolUses.filter((b) => b.name !== ASK_USER).map((b) => ({ name: b.name, input: b.input }));
        const repeated = tools.askToContinue ? runaway.beforeCalls(calls) : undefined;
        if (repeated) {
          const answer = await mayContinue(repeated);
          if (answer === 'cancelled') return aborted();
          if (answer !== 'continue')
            return finish({
              kind: 'failed',
              reason: stoppedBecause(repeated.stopped, answer),
            });
          runaway.reset(repeated.kind, repeated.details);
        }
        state.inflight = { assistant: content, started: [], results: {} };
        const over = toolUses.slice(MAX_CALLS_PER_REPLY);
        for (const b of over) state.inflight.results[b.id] = tooManyCalls(toolUses.length);
        await emit({
          type: 'tools.planned',
          steps: toolUses.slice(0, MAX_CALLS_PER_REPLY).map(stepOf),
          inflight: state.inflight,
          spent: { usage: state.usage, costUsd: state.costUsd },
        });
        const r = await runTools(state.inflight);
        if (r === 'stopped') return aborted();
        const results = toolUses.map((b) => JSON.stringify(state.inflight?.results[b.id]?.content ?? ''));
        commitTurn();
        if (toolUses.every((b) => readOnlyTools.has(b.name))) await settleAudit();
        else await settleCheckpoint();
        const stale = tools.askToContinue ? runaway.afterTurn(textOf(content), calls, results) : undefined;
        if (stale) {
          const answer = await mayContinue(stale);
          if (answer === 'cancelled') return aborted();
          if (answer !== 'continue')
            return finish({
              kind: 'failed',
              reason: stoppedBecause(`Stopped: ${stale.summary.replace(/ Let it continue\?$/, '')}`, answer),
            });
          runaway.reset(stale.kind, stale.details);
        }
        continue;
      }
      if (!content.length) content.push({ type: 'text', text: '(no reply)' });
      state.messages.push({ role: 'assistant', content });
      state.turns++;
      if (stopReason === 'pause_turn') {
        await checkpoint();
        continue;
      }
      // The task ends here: the runner's final write records this turn with the outcome.
      if (stopReason === 'model_context_window_exceeded') {
        return finish({
          kind: 'failed',
          reason:
            "The conversation no longer fits in the model's context window. Start a new thread for the next step.",
        });
      }
      return finish({ kind: 'done', text: textOf(content) });
    }
  } finally {
    wall.stop();
    // Never leave a checkpoint write behind (its failure is the task's failure).
    await settleCheckpoint();
  }

  /**
   * The spending caps before a model call: a cap reached (`cap`, and which one in `reached`), a wait
   * for calls under way, or the call may go (its cost reserved until `settle`).
   */
  function checkCaps(request: ModelRequest): CallCheck & { cap?: string } {
    for (const [key, w] of capWaivers)
      if (state.costUsd > w.fromUsd && !(state.costUsd < w.upToUsd)) capWaivers.delete(key);
    const call: CallCheck = {
      taskId: opts.taskId,
      costUsd: state.costUsd,
      // A pass over the whole conversation: worked out only when a cap is set and the call may go.
      estimateUsd: () => callEstimateUsd(request),
      waived: new Set(capWaivers.keys()),
    };
    const capReached = opts.capReached;
    if (!capReached) return call;
    const cap = checkCall(call, capReached);
    // A check that cannot say which cap (not the spending caps' own): one approval covers it.
    if (!cap || (!call.reached && capWaivers.has(UNKNOWN_CAP))) return call;
    return Object.assign(call, { cap });
  }

  /** Resolves when `p` does or the run is aborted (the loop then sees the abort at the top). */
  function untilOrAborted(p: Promise<void>): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      p.then(done);
    });
  }

  /** The turn is committed: make the conversation as it stands durable. */
  async function checkpoint(): Promise<void> {
    await emit({ type: 'checkpoint', state: snapshot(state) });
  }

  /** Text the model wrote, as a person is shown it: without the known secrets. */
  function shownText(text: string): string {
    return tools.redactor ? tools.redactor()(text) : text;
  }

  function stepOf(b: ToolUseBlock): ToolStep {
    const invalid = invalidInputAnswer(b.input);
    const summary =
      b.name === ASK_USER
        ? `Asked: ${String((b.input as { question?: unknown })?.question ?? '').slice(0, 120)}`
        : invalid
          ? `${b.name} (${invalid.why})`
          : tools.summarize(b.name, b.input);
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
    // Read-only calls return before their audit entries are durable: they are flushed alongside
    // the checkpoint (two syncs in parallel, not one after the other).
    const durable = turnDurable.splice(0);
    if (durable.length) pendingAudit = Promise.all(durable.map((p) => p.catch(() => undefined)));
    pendingCheckpoint = checkpoint();
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
        await record(
          step,
          {
            content: [
              {
                type: 'text',
                text: `Not run: ${why === 'cancel' ? 'the user cancelled the task' : 'the task hit its time limit'}.`,
              },
            ],
            isError: true,
          },
          { state: 'error', output: 'Not run (cancelled)' },
        );
        continue;
      }
      if (inflight.started.includes(b.id) && b.name !== ASK_USER) {
        // Started before a crash or stop, never finished: report, never re-run silently.
        await record(
          step,
          { content: [{ type: 'text', text: UNKNOWN_OUTCOME }], isError: true },
          { state: 'unknown', output: UNKNOWN_OUTCOME },
        );
        continue;
      }
      const unusable = invalidInputAnswer(b.input);
      if (unusable) {
        await record(
          step,
          { content: [{ type: 'text', text: unusable.text }], isError: true },
          { state: 'error', output: unusable.output },
        );
        continue;
      }
      // A read-only call is not marked started: after a crash or stop it runs again (harmless)
      // instead of being reported as outcome unknown, so nothing needs to be durable before it.
      const readOnly = readOnlyTools.has(b.name);
      const start = async () => {
        if (!readOnly && !inflight.started.includes(b.id)) inflight.started.push(b.id);
        await emit({ type: 'tool.started', step, turn: state.turns, ...(readOnly ? { readOnly } : {}) });
      };
      // A call whose runtime says when it acts is started then (after its approval), not now.
      const startsLater = !readOnly && reportsStart.has(b.name);
      if (!startsLater) await start();
      if (b.name === ASK_USER) {
        // Shown to the person (and pushed) without the known secrets; the call keeps its input.
        const question =
          shownText(String((b.input as { question?: unknown })?.question ?? '').trim()) ||
          'The agent needs your input to continue.';
        wall.pause();
        let answer: string | undefined;
        try {
          answer = await hooks.ask(question, step, signal);
        } catch {
          answer = undefined;
        } finally {
          wall.resume();
        }
        if (answer === undefined) {
          if (abortWhy() === 'shutdown') return 'stopped';
          await record(
            step,
            { content: [{ type: 'text', text: 'No answer: the task was cancelled.' }], isError: true },
            { state: 'error', output: 'No answer (cancelled)' },
          );
          continue;
        }
        await record(
          step,
          { content: [{ type: 'text', text: `The user answered: ${answer}` }], isError: false },
          { state: 'completed', output: answer },
        );
        continue;
      }
      const outcome = await runOne(step, startsLater ? start : undefined);
      // A clean stop while the call waited for its approval: it never acted, and nothing is
      // recorded, so a resume runs it through the runtime again and asks anew, as after a crash
      // (recorded as denied, the reply's later calls would run without it).
      if (startsLater && abortWhy() === 'shutdown' && !inflight.started.includes(b.id)) return 'stopped';
      if (outcome === 'gone') {
        if (abortWhy() === 'shutdown') return 'stopped';
        await record(
          step,
          {
            content: [{ type: 'text', text: 'Cancelled while this was running; it may have partly completed.' }],
            isError: true,
          },
          { state: 'error', output: 'Cancelled while running' },
        );
        continue;
      }
      if (outcome.durable) turnDurable.push(outcome.durable);
      if (outcome.tainted) state.tainted = true;
      await record(
        step,
        {
          content: outcome.content.length ? outcome.content : [{ type: 'text', text: '(no output)' }],
          isError: outcome.isError,
        },
        {
          state: outcome.state,
          summary: outcome.summary,
          output: outcome.output ?? resultText({ content: outcome.content, isError: outcome.isError }),
        },
      );
    }
    return 'complete';
  }

  async function record(step: ToolStep, result: StoredResult, end: StepEnd): Promise<void> {
    const inflight = state.inflight!;
    inflight.results[step.id] = result;
    await emit({ type: 'tool.finished', step, end, inflight, tainted: state.tainted });
  }

  /**
   * One tool call; 'gone' when the task was aborted and the tool did not return within the grace
   * time. `start`: marks the call started, for a runtime that says when the call acts.
   */
  async function runOne(step: ToolStep, start?: () => Promise<void>): Promise<ToolCallOutcome | 'gone'> {
    let over = false;
    const ctx: TaskToolContext = {
      taskId: opts.taskId,
      threadId: opts.threadId,
      signal,
      tainted: state.tainted,
      setWaiting: waiting,
      describe: (summary) => void emit({ type: 'tool.described', step, summary }),
      ...(start
        ? {
            willRun: async () => {
              // Given up on (or stopping): it must not act now, with nothing to record its result.
              if (over || signal.aborted) throw new Error('the task stopped before it could run');
              await start();
            },
          }
        : {}),
    };
    const run = tools.run({ id: step.id, name: step.name, input: step.input }, ctx).catch(
      (err: unknown): ToolCallOutcome => ({
        content: [{ type: 'text', text: `The tool failed: ${(err as Error)?.message ?? String(err)}` }],
        isError: true,
        state: 'error',
      }),
    );
    let onAbort: (() => void) | undefined;
    const gone = new Promise<'gone'>((resolve) => {
      onAbort = () => setTimeout(() => resolve('gone'), grace).unref();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([run, gone]);
    } finally {
      over = true;
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** The web tools the next request offers, and the note when fetch is withdrawn. */
  function webFor(conversation: WireMessage[]): ReturnType<typeof webTools> {
    if (webOff) return { tools: [] };
    return webTools(opts.web?.settings, {
      tainted: state.tainted,
      fetchAllowed: opts.web?.fetchAllowed?.(),
      searchesUsed: webUses.searches,
      fetchesUsed: webUses.fetches,
      messages: conversation,
      // Calls of the turn this request continues: their tools are offered again, for the API to run them.
      pending: pendingUses(pendingServerCalls(conversation)),
    });
  }

  /**
   * The person learns fetch was withdrawn (once a run), and can allow it from the notice: when a page
   * is in play, that is when their message gives a URL or the conversation holds web results. A
   * thread tainted only by an attached file or a connector's output gets no such card (the model
   * still gets its note); a URL given later brings it.
   */
  function tellFetchWithdrawn(note: string | undefined): void {
    if (!note || toldFetchWithdrawn || !webInPlay) return;
    toldFetchWithdrawn = true;
    void emit({ type: 'notice', text: FETCH_WITHDRAWN_NOTICE });
  }

  function buildRequest(): ModelRequest | { failed: string } {
    const reserve = settings.maxTokens;
    // Never past the last message: the request always has one (the task's start is at contextFrom).
    const from = Math.min(opts.contextFrom ?? 0, Math.max(0, state.messages.length - 1));
    const conversation = from > 0 ? state.messages.slice(from) : state.messages;
    const fit = fitContext(
      { system: opts.system, tools: toolDefs, messages: conversation },
      Math.floor((settings.contextTokens - reserve) * contextShare),
    );
    fittedTokens = fit.tokens;
    if (!fit.fits) {
      return {
        failed: `The conversation (about ${fmt(fit.tokens)} tokens) no longer fits in the model's context (anthropic.contextTokens = ${fmt(settings.contextTokens)}). Start a new thread for the next step.`,
      };
    }
    const messages = normalizeMessages(conversation);
    // Cache the conversation prefix too: mark the last block of the last message.
    const last = messages.at(-1);
    if (last?.content.length) {
      const content = [...last.content];
      content[content.length - 1] = {
        ...content[content.length - 1],
        cache_control: { type: 'ephemeral' },
      } as WireBlock;
      messages[messages.length - 1] = { role: last.role, content };
    }
    const web = webFor(conversation);
    tellFetchWithdrawn(web.note);
    // Server tools go before ask_user, whose cache mark ends the cached tools prefix.
    const tools = web.tools.length ? [...toolDefs.slice(0, -1), ...web.tools, toolDefs[toolDefs.length - 1]] : toolDefs;
    const system = web.note ? [...opts.system, noteBlock(web.note)] : opts.system;
    return {
      model: settings.model,
      max_tokens: settings.maxTokens,
      system,
      tools,
      messages,
      ...modelFeatures(settings),
    };
  }
}
