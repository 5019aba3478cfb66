// A small line diff (Myers' O((N+M)·D) algorithm) producing unified-diff hunks. Used by the host to
// answer task.diff; kept here, without dependencies, so a client could compute one too. The edit
// distance is capped: past it the answer is "too many changes to show" rather than a long stall.
import type { DiffHunk } from './protocol/diff.js';

export interface LineDiffOptions {
  /** Unchanged lines shown around each change. */
  context?: number;
  /** The most added + removed lines searched for; beyond it lineDiff returns undefined. */
  maxEdits?: number;
}

/** Split text into lines; a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

type Op = ' ' | '-' | '+';

/** The edit script between a and b (common prefix/suffix trimmed first), or undefined past maxEdits. */
function editScript(a: string[], b: string[], maxEdits: number): Op[] | undefined {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const middle = myers(a.slice(start, endA), b.slice(start, endB), maxEdits);
  if (!middle) return undefined;
  const ops: Op[] = new Array<Op>(start).fill(' ');
  for (const op of middle) ops.push(op);
  for (let i = endA; i < a.length; i++) ops.push(' ');
  return ops;
}

function myers(a: string[], b: string[], maxEdits: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  if (n === 0) return new Array<Op>(m).fill('+');
  if (m === 0) return new Array<Op>(n).fill('-');
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v[-d..d] as it was before step d (what backtracking needs).
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], n: number, m: number): Op[] {
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const prev = trace[d]!; // v[-d..d] before step d = the result of step d - 1
    const at = (k: number) => prev[k + d]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push(' ');
      x--;
      y--;
    }
    ops.push(down ? '+' : '-');
    if (down) y--;
    else x--;
  }
  while (x > 0 && y > 0) {
    ops.push(' ');
    x--;
    y--;
  }
  return ops.reverse();
}

/**
 * Unified-diff hunks from `before` to `after` (arrays of lines), with `context` unchanged lines
 * around each change; undefined when more than maxEdits lines were added and removed.
 */
export function lineDiff(before: string[], after: string[], opts: LineDiffOptions = {}): DiffHunk[] | undefined {
  const context = opts.context ?? 3;
  const ops = editScript(before, after, opts.maxEdits ?? 1000);
  if (!ops) return undefined;
  // Old and new line numbers (0-based) at each op, and the lines each op shows.
  const rows: Array<{ op: Op; oldNo: number; newNo: number; text: string }> = [];
  let i = 0;
  let j = 0;
  for (const op of ops) {
    rows.push({ op, oldNo: i, newNo: j, text: op === '+' ? after[j]! : before[i]! });
    if (op !== '+') i++;
    if (op !== '-') j++;
  }
  const hunks: DiffHunk[] = [];
  let r = 0;
  while (r < rows.length) {
    while (r < rows.length && rows[r]!.op === ' ') r++;
    if (r >= rows.length) break;
    // The previous hunk ended more than `context` lines before `from`: hunks never overlap.
    const from = Math.max(0, r - context);
    // Extend the hunk while the next change is within 2·context unchanged lines.
    let end = r;
    for (;;) {
      while (end < rows.length && rows[end]!.op !== ' ') end++;
      let gap = end;
      while (gap < rows.length && rows[gap]!.op === ' ') gap++;
      if (gap < rows.length && gap - end <= 2 * context) end = gap;
      else break;
    }
    const to = Math.min(rows.length, end + context);
    const slice = rows.slice(from, to);
    hunks.push({
      oldStart: slice[0]!.oldNo + 1,
      newStart: slice[0]!.newNo + 1,
      lines: slice.map((s) => s.op + s.text),
    });
    r = to;
  }
  return hunks;
}
