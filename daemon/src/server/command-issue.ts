// What is wrong with a command zod refused, as the sentence of a bad_request. The issue may carry
// what the client sent (an unknown field's name, megabytes long): only a little of it is named
// back, escaped, and the whole sentence is kept short.

/** Unknown fields named back, and how much of each name. */
const NAMED_KEYS = 3;
const KEY_CHARS = 40;
/** Longest sentence made from zod's words. */
const MAX_PROBLEM_CHARS = 300;

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: readonly string[];
}

/** A short, escaped form of a name the client chose: JSON-quoted, cut at KEY_CHARS. */
function shortName(name: string): string {
  return JSON.stringify(cut(name, KEY_CHARS)) + (name.length > KEY_CHARS ? '…' : '');
}

/** At most `max` characters, never splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max;
  return text.slice(0, end);
}

/** `Invalid "<type>": <where> <what>`, at most MAX_PROBLEM_CHARS past the type. */
export function commandProblem(type: string, issue: Issue): string {
  const where = issue.path.map(String).join('.') || 'frame';
  let what = issue.message;
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    const named = issue.keys.slice(0, NAMED_KEYS).map(shortName).join(', ');
    const more = issue.keys.length - NAMED_KEYS;
    what = `has ${issue.keys.length === 1 ? 'an unknown field' : 'unknown fields'} ${named}${more > 0 ? ` and ${more} more` : ''}`;
  }
  const problem = `${where} ${what}`;
  const short = problem.length > MAX_PROBLEM_CHARS ? `${cut(problem, MAX_PROBLEM_CHARS - 1)}…` : problem;
  return `Invalid "${type}": ${short}`;
}
