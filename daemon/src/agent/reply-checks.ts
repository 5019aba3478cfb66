// Checks on what a model reply says before anything in it runs or is kept: tool call ids that are
// valid and unique in the thread, blocks and tool input nested no deeper than any tool needs, only
// the blocks Errand asked for (the web tools the request offered, used no more than it allowed), and
// thinking blocks that can go back to the API exactly as they came.
import type { LoopState } from './loop-types.js';
import { ModelOutputError } from './retry.js';
import { WEB_FETCH, WEB_SEARCH } from './web-tools.js';
import type { ModelRequest } from './wire.js';

/** Marks a tool call's input that could not be used; the call is answered with an error, never run. */
export const INVALID_INPUT = '__errand_invalid_json';
/** With INVALID_INPUT: the input was complete JSON, but nested deeper than MAX_NESTING. */
export const INPUT_TOO_DEEP = '__errand_input_too_deep';

/**
 * Levels of objects and arrays a block or a tool's input may have. No tool's input needs more than a
 * few; thousands overflow the stack of the code that copies and shows them (JSON.stringify, structuredClone).
 */
export const MAX_NESTING = 100;

/** Whether `value` has objects or arrays nested more than `max` levels deep (no recursion: the depth is the point). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const todo: Array<[unknown, number]> = [[value, 1]];
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [v, depth] = next;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v))
      if (child !== null && typeof child === 'object') todo.push([child, depth + 1]);
  }
  return false;
}

/** Whether JSON text has objects or arrays nested more than `max` levels deep (brackets in strings do not count). */
export function jsonNestedDeeperThan(json: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash escapes the next character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

/** A block the API streams whole (a web result, a citation): refused when nested past any use. */
export function checkNesting(value: unknown): void {
  if (nestedDeeperThan(value, MAX_NESTING))
    throw new ModelOutputError(
      `The model API sent a block nested more than ${MAX_NESTING} levels deep; the reply was not used.`,
    );
}

/** The input a call nested too deeply gets instead: the model sees why it was not run. */
export const tooDeepInput = (): Record<string, unknown> => ({
  [INVALID_INPUT]: `Not run: this input was nested more than ${MAX_NESTING} levels deep. Send the call again with flatter input.`,
  [INPUT_TOO_DEEP]: true,
});

/**
 * How a call with unusable input is answered (the tool result, and the step's output on the phone),
 * or undefined when its input is usable.
 */
export function invalidInputAnswer(input: unknown): { text: string; output: string; why: string } | undefined {
  if (typeof input !== 'object' || input === null || !(INVALID_INPUT in input)) return undefined;
  if (INPUT_TOO_DEEP in input)
    return {
      text: `The tool input was nested more than ${MAX_NESTING} levels deep, so it was not run. Send the call again with flatter input.`,
      output: 'Input nested too deeply',
      why: 'input nested too deeply',
    };
  return {
    text: 'The tool input was not complete JSON (the reply was probably cut off at max_tokens). Send the call again with complete input.',
    output: 'Input was cut off',
    why: 'input cut off',
  };
}

/** Tool call ids key the call's result: the API's own shape, never a name objects already have. */
const TOOL_ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The tool calls of one reply (the loop's and the API's own server tools): each needs a valid id
 * and name, and an id no other call in the reply or in the thread's conversation has. A repeated id
 * would answer two calls with one result (the other never runs), show one step in place of another
 * on the phone, and leave a conversation the API refuses from then on.
 */
export class ToolCallIds {
  private readonly seen = new Set<string>();
  private earlier?: Set<string>;

  constructor(private readonly state: Pick<LoopState, 'messages' | 'inflight'>) {}

  check(cb: { id?: unknown; name?: unknown }): void {
    if (typeof cb.id !== 'string' || !TOOL_ID.test(cb.id) || cb.id in Object.prototype)
      throw new ModelOutputError('The model API sent a tool call without a valid id; the reply was not used.');
    if (typeof cb.name !== 'string' || cb.name.length === 0 || cb.name.length > 200)
      throw new ModelOutputError('The model API sent a tool call without a valid name; the reply was not used.');
    const id = cb.id;
    if (this.seen.has(id))
      throw new ModelOutputError(
        `The model API sent two tool calls with the same id (${id}) in one reply; the reply was not used.`,
      );
    this.seen.add(id);
    this.earlier ??= idsInConversation(this.state);
    if (this.earlier.has(id))
      throw new ModelOutputError(
        `The model API sent a tool call with the id of an earlier call in this thread (${id}); the reply was not used.`,
      );
  }
}

/** The ids of every tool call in the thread's conversation so far (worked out once a reply has a call). */
function idsInConversation(state: Pick<LoopState, 'messages' | 'inflight'>): Set<string> {
  const ids = new Set<string>();
  const blocks = [...state.messages.flatMap((m) => m.content), ...(state.inflight?.assistant ?? [])];
  for (const b of blocks)
    if ((b.type === 'tool_use' || b.type === 'server_tool_use') && typeof b.id === 'string') ids.add(b.id);
  return ids;
}

/**
 * A thinking block as it starts. The API wants each thinking block back byte for byte with every
 * later request and refuses the conversation from then on when one is not valid; a block Errand
 * would have to fill in (text or data that is not a string) or did not ask for must not be kept.
 */
export function checkThinkingStart(
  request: Pick<ModelRequest, 'thinking'>,
  cb: { type: string; thinking?: unknown; signature?: unknown; data?: unknown },
): void {
  if (cb.type !== 'thinking' && cb.type !== 'redacted_thinking') return;
  if (!request.thinking)
    throw new ModelOutputError(
      'The model API sent a thinking block, but this request did not ask for thinking; the reply was not used.',
    );
  if (cb.type === 'redacted_thinking' && (typeof cb.data !== 'string' || cb.data === ''))
    throw new ModelOutputError(
      'The model API sent a redacted thinking block without its data; the reply was not used.',
    );
  // Both may be absent here (the deltas carry them); present, they must be text.
  if (cb.type === 'thinking' && [cb.thinking, cb.signature].some((v) => v !== undefined && typeof v !== 'string'))
    throw new ModelOutputError(
      'The model API sent a thinking block whose text or signature is not text; the reply was not used.',
    );
}

/** A thinking block once complete: without its signature the API refuses it when it goes back. */
export function checkThinkingEnd(b: { type: string; signature?: string }): void {
  if (b.type === 'thinking' && !b.signature)
    throw new ModelOutputError('The model API sent a thinking block without a signature; the reply was not used.');
}

/** The model's own blocks: what it wrote, never text it read. */
const OWN_BLOCKS = new Set(['text', 'thinking', 'redacted_thinking', 'tool_use']);
/** The result block of each web tool Errand can offer. */
const RESULT_OF: Record<string, string> = { web_search_tool_result: WEB_SEARCH, web_fetch_tool_result: WEB_FETCH };
const SAID: Record<string, string> = { [WEB_SEARCH]: 'web search', [WEB_FETCH]: 'web fetch' };
const said = (name: string) => SAID[name] ?? name;

/**
 * The server tool blocks of one reply against what its request offered. Errand offers web search
 * and web fetch only, each with max_uses; the endpoint (anthropic.baseUrl can be any proxy) runs
 * them, so a block of another kind (code execution, MCP: text no rule here has seen, an orphan the
 * API refuses from then on), a tool the request did not offer (fetch withdrawn from a tainted
 * thread) or more pages read than max_uses allowed means the reply is not used. A use past
 * max_uses answered with an error is the API's own way of saying no, and is fine.
 *
 * Each result answers one call: of this reply, or one the turn this request continues left without
 * a result (`pending`, web-tools.ts pendingServerCalls; the request's max_uses counts those besides
 * its new uses). A result that answers no call, or a call already answered, is refused: kept, it
 * would go back with every later request, and the API refuses such a conversation from then on.
 *
 * The first problem is noted, not thrown: the reply is refused once complete (so a cancel still
 * ends as a cancel, and a worse problem later in the stream is still reported as it is now).
 */
export class OfferedServerTools {
  private readonly offered = new Map<string, number>();
  /** Server tool calls of this reply: id → tool name. */
  private readonly calls = new Map<string, string>();
  /** Ids of the calls a result in this reply answered. */
  private readonly answered = new Set<string>();
  /** Results with content (not an error) for calls of this reply, per tool. */
  private readonly read = new Map<string, number>();
  /** Why the reply is not used, once a block breaks the rules. */
  problem?: string;

  constructor(
    tools: ModelRequest['tools'],
    private readonly pending: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const t of tools)
      if (!('input_schema' in t) && (t.name === WEB_SEARCH || t.name === WEB_FETCH))
        this.offered.set(t.name, (this.offered.get(t.name) ?? 0) + (t.max_uses ?? Number.POSITIVE_INFINITY));
    // The pending calls' runs are in max_uses too: what is left is for calls of this reply.
    for (const name of pending.values())
      if (this.offered.has(name)) this.offered.set(name, Math.max(0, (this.offered.get(name) ?? 0) - 1));
  }

  /** A block as it starts (its id and name already checked by ToolCallIds). */
  check(cb: { type: string; id?: unknown; name?: unknown; tool_use_id?: unknown; content?: unknown }): void {
    if (this.problem || OWN_BLOCKS.has(cb.type)) return;
    if (cb.type === 'server_tool_use') {
      const name = String(cb.name);
      if (!this.offered.has(name))
        this.problem = `The model API ran ${said(name)}, which Errand had not offered in this request; the reply was not used, so nothing it read is kept.`;
      else this.calls.set(String(cb.id), name);
      return;
    }
    const tool = RESULT_OF[cb.type];
    if (!tool) {
      this.problem = `The model API sent a ${cb.type.slice(0, 60)} block, which Errand never asks for; the reply was not used, so nothing in it is kept.`;
      return;
    }
    const id = String(cb.tool_use_id);
    // The endpoint's own text is named only when it has an id's shape (never words to show a person).
    const named = TOOL_ID.test(id) ? ` (${id})` : '';
    const called = this.calls.get(id) ?? this.pending.get(id);
    if (called === undefined) {
      this.problem = `The model API sent a ${said(tool)} result that answers no call in this turn${named}; the reply was not used, so nothing in it is kept.`;
      return;
    }
    if (this.answered.has(id)) {
      this.problem = `The model API sent a second ${said(tool)} result for one call${named}; the reply was not used, so nothing in it is kept.`;
      return;
    }
    this.answered.add(id);
    if (called !== tool) {
      this.problem = `The model API sent a ${said(tool)} result that answers a ${said(called)} call; the reply was not used.`;
      return;
    }
    // A pending call ran within the max_uses of the request that made it (its run is set aside above).
    if (!this.calls.has(id)) return;
    const error = cb.content as { error_code?: unknown } | undefined;
    if (!Array.isArray(cb.content) && typeof error?.error_code === 'string') return;
    const n = (this.read.get(tool) ?? 0) + 1;
    this.read.set(tool, n);
    const allowed = this.offered.get(tool) ?? 0;
    if (n > allowed)
      this.problem = `The model API ran ${said(tool)} more times than this request allowed (${allowed}); the reply was not used, so nothing it read is kept.`;
  }
}
