// Glob matching in time proportional to the pattern times the text, never more: patterns come from
// the model (fs_find, fs_search) and are matched on the daemon's main thread, where a backtracking
// regular expression (`{*,*}{*,*}…Z`) froze everything for minutes. `**` crosses folders, `*` and `?`
// do not, `{a,b}` gives alternatives (expanded, at most MAX_ALTERNATIVES), `[abc]`, `[a-z]`, `[!a]` sets.
import { ToolError } from './util.js';

/** Alternatives a pattern's braces may expand to. */
export const MAX_ALTERNATIVES = 64;
/** Characters in a pattern, at most. */
export const MAX_GLOB_LENGTH = 1000;

type Token =
  | { t: 'char'; c: string }
  | { t: 'one' } // ?
  | { t: 'star' } // * (within a folder name)
  | { t: 'any' } // ** not followed by /
  | { t: 'dirs' } // **/ : nothing, or anything ending in /
  | { t: 'set'; negate: boolean; ranges: Array<[string, string]> };

/** Expand `{a,b}` (nested too) into plain alternatives; throws past MAX_ALTERNATIVES. */
function expandBraces(glob: string): string[] {
  // The first top-level group: prefix{a,b}suffix.
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end > 0) i = end;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0) {
      if (--depth === 0) {
        const parts: string[] = [];
        let from = open + 1;
        for (const at of commas) {
          parts.push(glob.slice(from, at));
          from = at + 1;
        }
        parts.push(glob.slice(from, i));
        const prefix = glob.slice(0, open);
        const rest = expandBraces(glob.slice(i + 1));
        const out: string[] = [];
        for (const p of parts)
          for (const inner of expandBraces(p))
            for (const r of rest) {
              out.push(prefix + inner + r);
              if (out.length > MAX_ALTERNATIVES)
                throw new ToolError(
                  `The pattern has more than ${MAX_ALTERNATIVES} alternatives ({a,b} groups); use fewer or a simpler pattern.`,
                );
            }
        return out;
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  return [glob];
}

function tokens(glob: string, fold: (s: string) => string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        if (glob[i + 2] === '/') {
          out.push({ t: 'dirs' });
          i += 2;
        } else {
          out.push({ t: 'any' });
          i += 1;
        }
      } else if (out.at(-1)?.t !== 'star') out.push({ t: 'star' }); // ** within a name is one *
    } else if (c === '?') out.push({ t: 'one' });
    else if (c === '[' && glob.indexOf(']', i + 1) > i) {
      const end = glob.indexOf(']', i + 1);
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      const ranges: Array<[string, string]> = [];
      for (let k = 0; k < body.length; k++) {
        const a = fold(body[k]);
        if (body[k + 1] === '-' && k + 2 < body.length) {
          ranges.push([a, fold(body[k + 2])]);
          k += 2;
        } else ranges.push([a, a]);
      }
      out.push({ t: 'set', negate, ranges });
      i = end;
    } else out.push({ t: 'char', c: fold(c) });
  }
  return out;
}

/** Does `s` match the tokens? A set of positions in the pattern advanced one character at a time. */
function run(toks: Token[], s: string): boolean {
  const n = toks.length;
  let current = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  /** Add a position and the ones it reaches without a character (a star or ** may match nothing). */
  const add = (set: Uint8Array, p: number) => {
    while (p <= n && !set[p]) {
      set[p] = 1;
      const tok = toks[p];
      if (!tok || (tok.t !== 'star' && tok.t !== 'any' && tok.t !== 'dirs')) return;
      p++;
    }
  };
  add(current, 0);
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    next.fill(0);
    let any = false;
    for (let p = 0; p < n; p++) {
      if (!current[p]) continue;
      const tok = toks[p];
      switch (tok.t) {
        case 'char':
          if (tok.c === ch) add(next, p + 1);
          break;
        case 'one':
          if (ch !== '/') add(next, p + 1);
          break;
        case 'star':
          if (ch !== '/') add(next, p);
          break;
        case 'any':
          add(next, p);
          break;
        case 'dirs':
          add(next, p);
          if (ch === '/') add(next, p + 1);
          break;
        case 'set': {
          const inSet = tok.ranges.some(([a, b]) => ch >= a && ch <= b);
          if (inSet !== tok.negate && ch !== '/') add(next, p + 1);
          break;
        }
      }
    }
    for (let p = 0; p <= n && !any; p++) any = next[p] === 1;
    if (!any) return false;
    [current, next] = [next, current];
  }
  return current[n] === 1;
}

/** A matcher for `glob`; throws a ToolError for a pattern too long or with too many alternatives. */
export function globMatcher(glob: string, opts: { caseInsensitive?: boolean } = {}): (s: string) => boolean {
  if (glob.length > MAX_GLOB_LENGTH)
    throw new ToolError(`The pattern is ${glob.length} characters long; at most ${MAX_GLOB_LENGTH}.`);
  const fold = opts.caseInsensitive ? (x: string) => x.toLowerCase() : (x: string) => x;
  const alternatives = expandBraces(glob).map((g) => tokens(g, fold));
  return (s: string) => {
    const text = fold(s);
    return alternatives.some((toks) => run(toks, text));
  };
}
