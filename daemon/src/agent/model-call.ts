// One model call of the agent loop: stream the reply as events (text live, tool input assembled),
// watch for a stalled connection, and retry what is worth retrying within the window.

import type { Usage } from '../../../shared/src/index.js';
import { plural } from '../../../shared/src/words.js';
import { promptReported } from './call-check.js';
import { estimateTokens } from './context-window.js';
import { newItemId } from './ids.js';
import type { Emit, LoopSettings, LoopState } from './loop-types.js';
import { addUsage, costUsd, emptyUsage } from './pricing.js';
import {
  checkNesting,
  checkThinkingEnd,
  checkThinkingStart,
  INVALID_INPUT,
  jsonNestedDeeperThan,
  MAX_NESTING,
  OfferedServerTools,
  ToolCallIds,
  tooDeepInput,
} from './reply-checks.js';
import { chargedUsage, type Estimates, tokens, usageBounds } from './reply-usage.js';
import { backoffMs, classify, IncompleteStreamError, ModelOutputError, StalledStreamError } from './retry.js';
import type { Redactor } from './tool-runtime.js';
import {
  isUntrusted,
  pendingServerCalls,
  type Redact,
  redactCitations,
  redactWebResult,
  redactWebStep,
  refusesServerTools,
  sourcesOf,
  WEB_FETCH,
  webStepOf,
} from './web-tools.js';
import type { ModelClient, ModelRequest, ServerBlock, StreamEvent, WireBlock } from './wire.js';

export interface CallContext {
  model: ModelClient;
  signal: AbortSignal;
  emit: Emit;
  settings: LoopSettings;
  state: LoopState;
  /**
   * Takes the known secrets out of a text (the tool runtime's redactor): web results are tool
   * output, kept, shown and sent back to the model like any other, so they are redacted too; and
   * what the model writes is redacted wherever it is shown (a hostile endpoint can echo the API key).
   */
  redactor?: () => Redactor;
}

/**
 * A text block's words as the phones see them while they stream: without the known secrets, and
 * never a secret in part. A secret can be split across deltas, so the text after the last
 * whitespace (no form of a secret holds any), at most `holdBack` characters (the longest form of a
 * secret, less one), waits for more text or the block's end: prose streams a word behind. Each
 * delta redacts only what was not shown yet, so the work stays linear in the text.
 */
const WHITESPACE = /\s/;

export class LiveText {
  private raw = '';
  /** Characters of `raw` whose redacted form was shown. */
  private shownRaw = 0;
  private shown = '';
  constructor(
    private readonly redact: Redact,
    private readonly holdBack: number,
  ) {}

  /** Take `delta`; returns the redacted text that may be shown now, after what was shown. */
  add(delta: string): string {
    this.raw += delta;
    const cut = Math.max(this.raw.length - this.holdBack, this.lastWordStart());
    if (cut <= this.shownRaw) return '';
    const safe = this.redact(this.raw.slice(this.shownRaw, cut));
    // A secret across the cut is whole in the rest (held back long enough) but not in `safe`:
    // then wait, rather than show its first part.
    if (!this.redact(this.raw.slice(this.shownRaw)).startsWith(safe)) return '';
    this.shownRaw = cut;
    this.shown += safe;
    return safe;
  }

  /** Where the text's last run without whitespace starts, looked for only within the hold-back. */
  private lastWordStart(): number {
    const from = Math.max(this.shownRaw, this.raw.length - this.holdBack);
    for (let i = this.raw.length - 1; i >= from; i--) if (WHITESPACE.test(this.raw[i])) return i + 1;
    return from;
  }

  /** The block ended: its whole text redacted, and what of it is still to be shown. */
  end(): { text: string; rest: string } {
    const text = this.redact(this.raw);
    // Should a redaction span what was shown, the item's update (its whole text) corrects the phone.
    return { text, rest: text.startsWith(this.shown) ? text.slice(this.shown.length) : '' };
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export type Reply =
  | { kind: 'ok'; content: WireBlock[]; stopReason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'aborted'; partial: WireBlock[] }
  /** The endpoint rejected the server tools (web search / fetch) in the request. */
  | { kind: 'no-server-tools'; reason: string }
  /** The API refused the prompt as longer than the model's context: the estimate ran low. */
  | { kind: 'too-long' };

/**
 * A 400 saying the prompt does not fit the model's context ("prompt is too long: 212000 tokens >
 * 200000 maximum", "input length and `max_tokens` exceed context limit: …"). Told by its words, as
 * the API gives no code for it; duck-typed, so this module does not load the SDK.
 */
export function promptTooLong(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { status?: unknown; type?: unknown; apiMessage?: unknown; message?: unknown };
  if (e.status !== 400 || (e.type != null && e.type !== 'invalid_request_error')) return false;
  const words = typeof e.apiMessage === 'string' ? e.apiMessage : String(e.message ?? '');
  return /prompt is too long|exceeds? (the )?context (limit|window)|context (window|length) exceeded/i.test(words);
}

/** One model call, retried (backoff, retry-after) within the retry window. */
export async function callModel(c: CallContext, request: ModelRequest): Promise<Reply> {
  const { signal, emit, settings } = c;
  const textEnd = (it: { itemId: string; shown: string }) =>
    emit({ type: 'text.ended', itemId: it.itemId, text: it.shown });
  const started = Date.now();
  let reuse: string[] = [];
  // The request's size in tokens (estimateTokens), worked out once for all attempts: what bounds the
  // reply's prompt figures and stands in for them when they are not believable.
  let whole: number | undefined;
  const promptEstimates = {
    prompt: () => (whole ??= estimateTokens(request)),
  };
  for (let attempt = 0; ; attempt++) {
    const r = await streamOnce(c, request, reuse, promptEstimates);
    if (r.kind === 'ok') return r;
    if (signal.aborted) {
      await Promise.all(r.items.map(textEnd));
      return {
        kind: 'aborted',
        partial: r.items.filter((it) => it.text).map((it) => ({ type: 'text', text: it.text })),
      };
    }
    // A page too large is no fault of the endpoint, and reading it again would fail again.
    const f =
      r.error instanceof PageTooLargeError
        ? { retryable: false, message: r.error.message }
        : classify(r.error, settings.model, settings.secrets);
    // Tools the API runs itself (web); the memory tool has an API type too but runs here.
    const serverTools = request.tools.flatMap((t, i) => ('input_schema' in t || t.name === 'memory' ? [] : [i]));
    if (serverTools.length && refusesServerTools(r.error, serverTools)) {
      await Promise.all(r.items.map(textEnd));
      return { kind: 'no-server-tools', reason: f.message };
    }
    if (promptTooLong(r.error)) {
      await Promise.all(r.items.map(textEnd));
      return { kind: 'too-long' };
    }
    if (!f.retryable) {
      await Promise.all(r.items.map(textEnd));
      return { kind: 'failed', reason: f.message };
    }
    const delay = Math.max(f.retryAfterMs ?? 0, backoffMs(attempt, settings.retryBaseMs));
    const spent = Date.now() - started;
    if (spent + delay > settings.retryWindowMs) {
      await Promise.all(r.items.map(textEnd));
      const window = Math.round(settings.retryWindowMs / 1000);
      return {
        kind: 'failed',
        reason: `${f.message} Errand retried for ${plural(Math.max(1, Math.round(spent / 1000)), 'second')} (limit: agent.retryWindowSeconds = ${window}) and gave up; retry the task later.`,
      };
    }
    void emit({ type: 'retrying', failure: f, delayMs: delay });
    for (const it of r.items) void emit({ type: 'text.reset', itemId: it.itemId });
    reuse = r.items.map((it) => it.itemId);
    await sleep(delay, signal);
    if (signal.aborted) return { kind: 'aborted', partial: [] };
  }
}

interface Block {
  type: string;
  text: string;
  itemId?: string;
  id?: string;
  name?: string;
  json: string;
  done: boolean;
  /** A server tool block as it started (web search / fetch), kept whole. */
  raw?: Record<string, unknown>;
  citations?: unknown[];
  /** Thinking: its signature, and when it started streaming (for "Thought for 12 s"). */
  signature?: string;
  startedAt?: number;
  /** Text: what the phones are shown of it (redacted). */
  live?: LiveText;
}
type Attempt =
  | { kind: 'ok'; content: WireBlock[]; stopReason: string }
  /** `text`: the model's words as written (kept in the conversation); `shown`: redacted, for the phones. */
  | { kind: 'error'; error: unknown; items: Array<{ itemId: string; text: string; shown: string }> };

/**
 * A reply's text, thinking, tool input and server tool results together: far past what any
 * max_tokens (or web fetch's max_content_tokens) allows.
 */
export const MAX_REPLY_CHARS = 4_000_000;
/** A reply over MAX_REPLY_CHARS because of what its web tools read, with what to do instead. */
export class PageTooLargeError extends Error {}
/** Runs told that the API's usage figures were not used (once per run: a notice each turn would be noise). */
const toldEstimated = new WeakSet<LoopState>();
/** Runs told that usage figures were cut to what the request allows (once per run, likewise). */
const toldCut = new WeakSet<LoopState>();

/** One streamed attempt: text is emitted as it comes; the reply is assembled at the end. */
async function streamOnce(
  c: CallContext,
  request: ModelRequest,
  reuse: string[],
  promptEstimates: Omit<Estimates, 'output'>,
): Promise<Attempt> {
  const { signal, emit, settings, state } = c;
  const blocks = new Map<number, Block>();
  const persists: Array<void | Promise<void>> = [];
  const startText = (): string => {
    const itemId = newItemId('itm');
    void emit({ type: 'text.started', itemId });
    return itemId;
  };
  let stopReason = 'end_turn';
  const toolCalls = new ToolCallIds(state);
  const usage = emptyUsage();
  const reported = new Set<keyof Usage>();
  // The prompt's figures are fixed once message_start reports them (message_delta only repeats
  // them): the largest counts, so a later lower figure (a 0) never takes back what was reported.
  // Output tokens in message_start are a placeholder (1) before anything is written; message_delta's
  // count replaces it, and the streamed characters are the floor under it (chargedUsage).
  const report = (key: keyof Usage, n: unknown, replaces = false) => {
    const v = tokens(n);
    if (v === undefined) return;
    reported.add(key);
    usage[key] = replaces ? v : Math.max(usage[key] ?? 0, v);
  };
  /** Whether the server answered at all (a refused request, 429 or 5xx, is not billed). */
  let answered = false;
  /** Characters the model wrote (text, thinking, tool input): what output tokens are estimated from. */
  let outputChars = 0;
  let sawStop = false;
  let replyChars = 0;
  // Characters of web results, and the largest one (what it read, worked out only when needed).
  let webChars = 0;
  let largestWeb: { chars: number; what: () => string } | undefined;
  // A result may answer a call the turn this request continues left without one (pause_turn).
  const offered = new OfferedServerTools(request.tools, pendingServerCalls(request.messages));
  // The known secrets, looked up once a reply needs them (most replies read no page).
  let redactor: Redactor | undefined;
  const knownSecrets = (): Redactor => (redactor ??= c.redactor?.() ?? ((t: string) => t));
  const redact: Redact = (text) => knownSecrets()(text);
  const grew = (s: string, web?: () => string) => {
    replyChars += s.length;
    if (web) {
      webChars += s.length;
      if (s.length > (largestWeb?.chars ?? 0)) largestWeb = { chars: s.length, what: web };
    }
    if (replyChars <= MAX_REPLY_CHARS) return;
    const over = `over ${MAX_REPLY_CHARS.toLocaleString('en')} characters`;
    // Mostly web results: a page too large to read (a PDF is sent whole), not a broken endpoint.
    if (webChars > MAX_REPLY_CHARS / 2) {
      const what =
        largestWeb && largestWeb.chars > MAX_REPLY_CHARS / 4
          ? `${largestWeb.what()} was`
          : 'The web pages this reply read were';
      throw new PageTooLargeError(
        `${what} too large to read: with it the reply was ${over}, so it was not used. Retrying will not help; ask for a smaller page or another source.`,
      );
    }
    throw new ModelOutputError(`The model API sent a reply ${over}; it was not used.`);
  };
  /** The server tool call in this reply with this id, its input parsed from what streamed. */
  const serverCall = (id: unknown): ServerBlock | undefined => {
    const use = [...blocks.values()].find((x) => x.type === 'server_tool_use' && x.id === id);
    if (!use) return undefined;
    let input: unknown = use.raw?.input;
    try {
      if (use.json.trim()) input = JSON.parse(use.json);
    } catch {}
    return { ...use.raw, input } as ServerBlock;
  };
  /** What a web result read, for a person: "The page <url>", "The search results for “…”". */
  const whatWasRead = (cb: Record<string, unknown>) => (): string => {
    const found = webStepOf(serverCall(cb.tool_use_id), cb, redact);
    const step = found && redactWebStep(found, redact);
    if (step?.tool === WEB_FETCH) return `The page ${step.input.url?.slice(0, 300) || '(no address given)'}`;
    if (step) return `The search results for “${step.input.query?.slice(0, 100) ?? ''}”`;
    return `A ${redact(String(cb.type)).slice(0, 60)} block`;
  };
  /** A text block's new words, shown as far as no secret can be in part of them. */
  const showText = (b: Block, delta: string) => {
    const shown = delta && b.live!.add(delta);
    if (shown) void emit({ type: 'text.delta', itemId: b.itemId!, delta: shown });
  };
  const onEvent = (ev: StreamEvent) => {
    switch (ev.type) {
      case 'message_start': {
        const u = ev.message.usage ?? {};
        report('inputTokens', u.input_tokens);
        report('cacheReadTokens', u.cache_read_input_tokens);
        report('cacheWriteTokens', u.cache_creation_input_tokens);
        report('outputTokens', u.output_tokens);
        // Other tasks' cap checks count this call at its real prompt from now, not at its estimate.
        promptReported(request, state.costUsd, usage);
        break;
      }
      case 'content_block_start': {
        const cb = ev.content_block;
        // Before anything of the block is kept or shown: a repeated id or a block nested thousands
        // deep must not reach the loop (a call silently not run, a stack overflow in what copies it).
        if (cb.type === 'tool_use' || cb.type === 'server_tool_use') toolCalls.check(cb);
        checkNesting(cb);
        checkThinkingStart(request, cb);
        offered.check(cb);
        // Web results (and any block Errand does not know) are untrusted text from the moment they
        // arrive: a reply cut off after them (cancelled, failed) still leaves what the model said
        // about them in the conversation.
        const untrusted = isUntrusted(cb.type);
        if (untrusted) state.tainted = true;
        // Every part of a block counts toward the bound however it arrives: its text, thinking and
        // signature, citations, a tool's input, a whole result (a fetched page can be megabytes). Each
        // is kept and sent back with every later request: one left out made a thread unusable.
        grew(JSON.stringify(cb), untrusted ? whatWasRead(cb) : undefined);
        if (typeof cb.text === 'string') outputChars += cb.text.length;
        if (cb.type === 'thinking' && typeof cb.thinking === 'string') outputChars += cb.thinking.length;
        const b: Block = { type: cb.type, text: cb.text ?? '', json: '', done: false, id: cb.id, name: cb.name };
        if (cb.type === 'server_tool_use' || untrusted || cb.type === 'redacted_thinking') b.raw = { ...cb };
        if (cb.type === 'thinking') {
          b.text = typeof cb.thinking === 'string' ? cb.thinking : '';
          b.signature = typeof cb.signature === 'string' ? cb.signature : '';
          b.startedAt = Date.now();
        }
        if (cb.type === 'text') {
          b.itemId = reuse.shift() ?? startText();
          b.live = new LiveText(redact, Math.max(0, (knownSecrets().reach ?? 0) - 1));
          showText(b, b.text);
        }
        blocks.set(ev.index, b);
        break;
      }
      case 'content_block_delta': {
        const b = blocks.get(ev.index);
        if (!b) break;
        for (const part of [ev.delta.text, ev.delta.partial_json, ev.delta.thinking])
          if (typeof part === 'string') {
            grew(part);
            outputChars += part.length;
          }
        if (typeof ev.delta.signature === 'string') grew(ev.delta.signature);
        if (ev.delta.citation !== undefined) {
          checkNesting(ev.delta.citation);
          grew(JSON.stringify(ev.delta.citation) ?? '');
        }
        if (ev.delta.type === 'text_delta' && ev.delta.text) {
          b.text += ev.delta.text;
          showText(b, ev.delta.text);
        } else if (ev.delta.type === 'input_json_delta' && ev.delta.partial_json) {
          b.json += ev.delta.partial_json;
        } else if (ev.delta.type === 'thinking_delta' && ev.delta.thinking) {
          b.text += ev.delta.thinking;
        } else if (ev.delta.type === 'signature_delta' && ev.delta.signature) {
          b.signature = (b.signature ?? '') + ev.delta.signature;
        } else if (ev.delta.type === 'citations_delta' && ev.delta.citation) {
          (b.citations ??= []).push(ev.delta.citation);
        }
        break;
      }
      case 'content_block_stop': {
        const b = blocks.get(ev.index);
        if (!b) break;
        b.done = true;
        // The API's own call is kept and sent back whole: no input to answer it with an error instead.
        if (b.type === 'server_tool_use' && jsonNestedDeeperThan(b.json, MAX_NESTING))
          throw new ModelOutputError(
            `The model API sent a web tool call nested more than ${MAX_NESTING} levels deep; the reply was not used.`,
          );
        if (b.type === 'text') {
          const { text, rest } = b.live!.end();
          if (rest) void emit({ type: 'text.delta', itemId: b.itemId!, delta: rest });
          persists.push(emit({ type: 'text.ended', itemId: b.itemId!, text, sources: sourcesOf(b.citations, redact) }));
        } else if (b.type === 'thinking' || b.type === 'redacted_thinking') {
          checkThinkingEnd(b);
          persists.push(
            emit({
              type: 'thought',
              // Shown redacted; the conversation keeps it exactly (its signature covers it).
              summary: b.type === 'thinking' ? redact(b.text) : '',
              redacted: b.type === 'redacted_thinking',
              ms: b.startedAt ? Date.now() - b.startedAt : 0,
            }),
          );
        } else if (b.raw && b.type !== 'server_tool_use' && !offered.problem) {
          // A reply with a block Errand did not ask for is refused: none of its steps is shown as read.
          const step = webStepOf(serverCall(b.raw.tool_use_id), b.raw, redact);
          if (step) void emit({ type: 'web.step', step: redactWebStep(step, redact) });
        }
        break;
      }
      case 'message_delta': {
        if (ev.delta.stop_reason) stopReason = ev.delta.stop_reason;
        const u = ev.usage;
        if (u) {
          report('outputTokens', u.output_tokens, true);
          report('inputTokens', u.input_tokens);
          report('cacheReadTokens', u.cache_read_input_tokens);
          report('cacheWriteTokens', u.cache_creation_input_tokens);
          // Server tool uses are reported for the whole message (cumulative), like output tokens.
          const st = u.server_tool_use;
          if (st?.web_search_requests) report('webSearches', st.web_search_requests);
          if (st?.web_fetch_requests) report('webFetches', st.web_fetch_requests);
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
  const watchdog = setTimeout(() => {
    stalled = true;
    attempt.abort('stalled');
  }, stallMs);
  // The attempt also ends with the run's signal: a listener, cheaper per call than AbortSignal.any.
  const follow = () => attempt.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener('abort', follow, { once: true });
  const onEventWatched = (ev: StreamEvent) => {
    watchdog.refresh();
    answered = true;
    onEvent(ev);
  };
  let error: unknown;
  try {
    await c.model.stream(request, { signal: attempt.signal, onEvent: onEventWatched });
  } catch (err) {
    error = err;
  } finally {
    clearTimeout(watchdog);
    signal.removeEventListener('abort', follow);
  }
  if (stalled && !signal.aborted) error = new StalledStreamError(stallMs);
  if (error === undefined && offered.problem) error = new ModelOutputError(offered.problem);
  await Promise.allSettled(persists);
  if (answered) {
    const output = Math.ceil(outputChars / 4);
    const charged = chargedUsage(
      usage,
      { input: reported.has('inputTokens'), output: reported.has('outputTokens') },
      { ...promptEstimates, output },
      usageBounds(request, settings.contextTokens, { prompt: promptEstimates.prompt, output }),
    );
    state.usage = addUsage(state.usage, charged.usage);
    // Each call is priced when it is charged, at its own model's price: a task that goes on under
    // another model (a retry, a resume after a restart) never re-prices what it already spent.
    state.costUsd += costUsd(settings.model, charged.usage);
    if (charged.estimated && !toldEstimated.has(state)) {
      toldEstimated.add(state);
      void emit({
        type: 'notice',
        text: 'The model API did not report believable usage for a reply; its cost is estimated from the size of the request and the reply.',
      });
    }
    if (charged.cut.length && !toldCut.has(state)) {
      toldCut.add(state);
      void emit({
        type: 'notice',
        text: `The model API reported more ${charged.cut.join(' and ')} for a reply than its request allows; the figures were cut to the most that request could use.`,
      });
    }
  }
  if (error !== undefined || !sawStop || signal.aborted) {
    void emit({ type: 'usage', turns: state.turns, usage: state.usage, costUsd: state.costUsd });
    const items = [...blocks.values()]
      .filter((b) => b.type === 'text' && b.itemId)
      .map((b) => ({ itemId: b.itemId!, text: b.text, shown: b.live?.end().text ?? '' }));
    return { kind: 'error', error: error ?? new IncompleteStreamError(), items };
  }
  const content: WireBlock[] = [];
  for (const [, b] of [...blocks.entries()].sort((x, y) => x[0] - y[0])) {
    if (b.type === 'text') {
      // The model's own words, kept as written; what its citations quote from a result is
      // redacted as that result is (redactCitations).
      if (b.text)
        content.push({
          type: 'text',
          text: b.text,
          ...(b.citations ? { citations: redactCitations(b.citations, redact) } : {}),
        });
      else await emit({ type: 'text.ended', itemId: b.itemId!, text: '' });
    } else if (b.type === 'thinking') {
      // Kept exactly (text and signature): the API checks them when they come back.
      content.push({ type: 'thinking', thinking: b.text, signature: b.signature ?? '' });
    } else if (b.type === 'redacted_thinking') {
      content.push({ type: 'redacted_thinking', data: String(b.raw?.data ?? '') });
    } else if (b.raw) {
      const block = { ...b.raw } as ServerBlock;
      if (b.type === 'server_tool_use') {
        try {
          const input = b.json.trim() ? JSON.parse(b.json) : (block.input ?? {});
          block.input = input;
        } catch {
          block.input = {};
        }
      }
      // A web result is tool output: the conversation keeps it without the known secrets.
      content.push(b.type === 'server_tool_use' ? block : redactWebResult(block, redact));
    } else if (b.type === 'tool_use') {
      let input: unknown = {};
      try {
        // Answered with an error, as cut-off input is: the reply is charged and the task goes on.
        if (jsonNestedDeeperThan(b.json, MAX_NESTING)) input = tooDeepInput();
        else input = b.json.trim() ? JSON.parse(b.json) : {};
        if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('not an object');
      } catch {
        input = { [INVALID_INPUT]: b.json.slice(0, 2000) };
      }
      content.push({ type: 'tool_use', id: b.id!, name: b.name!, input });
    }
    // A block of another kind never gets here: OfferedServerTools refused the reply.
  }
  return { kind: 'ok', content, stopReason };
}
