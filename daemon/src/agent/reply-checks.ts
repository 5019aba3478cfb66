// Checks on what a model reply says before anything in it runs or is kept: tool call ids that are
// valid and unique in the thread, and blocks and tool input nested no deeper than any tool needs.
import type { LoopState } from './loop-types.js';
import { ModelOutputError } from './retry.js';

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
