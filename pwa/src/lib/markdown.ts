// A small, safe Markdown renderer: text in, Preact vnodes out. It never produces HTML strings and
// never uses innerHTML, so whatever the model or a file contains is rendered as text. Links are kept
// only for http(s) and mailto; images are never fetched (shown as their alt text). Hidden and
// direction-changing characters are shown as markers in prose, but for what ordinary writing needs,
// and code shows every hidden character (shared/src/visible-text.ts).
import { type ComponentChildren, cloneElement, h, type VNode } from 'preact';
import { visibleCode, visibleProse, visibleText } from '../../../shared/src/visible-text.js';
import { installCopyCode } from './copy-code.js';
import { fitTable } from './table-fit.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Child = VNode<any> | string;

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

export function safeHref(url: string): string | undefined {
  const u = url.trim();
  if (!SAFE_URL.test(u)) return undefined;
  try {
    const parsed = new URL(u);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' || parsed.protocol === 'mailto:'
      ? parsed.href
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a link really goes, when its text does not already start with it: the host of a web address,
 * the address of a mail link. A link's words are the model's (or a web page's) to choose:
 * "[https://bank.example.com](https://evil.example.net)" or "[Approve](https://evil.example.net)"
 * must not hide where a tap goes. A bare URL, or "example.com/prices" linking there, needs no note.
 */
export function hiddenDestination(text: string, href: string): string | undefined {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined;
  }
  const dest = (url.protocol === 'mailto:' ? url.pathname : url.hostname).toLowerCase();
  const shown = text
    .trim()
    .toLowerCase()
    .replace(/^(https?:\/\/|mailto:)/, '');
  // The destination, then the end, a port, a path, a query or a fragment ("bank.com.evil.net" is not bank.com).
  const startsWithDest = shown.startsWith(dest) && /^($|:\d+($|[/?#])|[/?#])/.test(shown.slice(dest.length));
  return dest && !startsWithDest ? visibleText(dest) : undefined;
}

/**
 * The note after a link's text, " (evil.example.net)", inside the link. Drawn left to right on its
 * own: a direction mark in the link's text cannot turn it into "(ten.elpmaxe.live)".
 */
export function destinationNote(text: string, href: string): VNode | null {
  const dest = hiddenDestination(text, href);
  return dest ? h('bdo', { key: 'dest', dir: 'ltr', class: 'link-host' }, ` (${dest})`) : null;
}

/** The words of rendered inline Markdown, as the person reads them. */
function textOf(nodes: ComponentChildren): string {
  if (typeof nodes === 'string' || typeof nodes === 'number') return String(nodes);
  if (Array.isArray(nodes)) return nodes.map(textOf).join('');
  if (nodes && typeof nodes === 'object' && 'props' in nodes)
    return textOf((nodes.props as { children?: ComponentChildren }).children);
  return '';
}

/**
 * A link's words with any link inside them made plain words ("[https://bank.example.com](…)" made the
 * bare URL a second link inside the first): one link, one destination, the one its note names.
 */
function withoutLinks(nodes: Child[]): Child[] {
  return nodes.map((n) => {
    if (typeof n === 'string') return n;
    const children = (n.props as { children?: Child[] | Child }).children;
    const inner = Array.isArray(children) ? withoutLinks(children) : children;
    if (n.type === 'a') return h('span', { key: n.key }, inner);
    return inner === children ? n : cloneElement(n, {}, inner);
  });
}

function link(words: Child[], url: string, key: number): Child {
  const href = safeHref(url);
  const text = withoutLinks(words);
  if (!href) return h('span', { key }, text);
  const note = destinationNote(textOf(text), href);
  return h('a', { key, href, rel: 'noopener noreferrer nofollow', target: '_blank' }, note ? [...text, note] : text);
}

interface Rule {
  re: RegExp;
  make(m: RegExpExecArray, key: number): Child;
}

const RULES: Rule[] = [
  { re: /\\([\\`*_{}[\]()#+\-.!~|>])/, make: (m) => m[1] },
  { re: /(`+)([\s\S]*?[^`])\1(?!`)/, make: (m, key) => h('code', { key }, visibleCode(m[2].trim() || m[2])) },
  {
    re: /!\[([^\]]*)\]\(([^)\s]*)(?:\s+"[^"]*")?\)/,
    make: (m, key) => h('span', { key, class: 'md-img' }, `[image${m[1] ? `: ${visibleProse(m[1])}` : ''}]`),
  },
  { re: /\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/, make: (m, key) => link(inline(m[1]), m[2], key) },
  { re: /<((?:https?:\/\/|mailto:)[^\s>]+)>/, make: (m, key) => link([visibleText(m[1])], m[1], key) },
  { re: /(\*\*|__)(?=\S)([\s\S]*?\S)\1/, make: (m, key) => h('strong', { key }, inline(m[2])) },
  { re: /~~(?=\S)([\s\S]*?\S)~~/, make: (m, key) => h('del', { key }, inline(m[1])) },
  { re: /\*(?=[^\s*])([\s\S]*?[^\s*])\*/, make: (m, key) => h('em', { key }, inline(m[1])) },
  {
    re: /(?<![A-Za-z0-9])_(?=[^\s_])([\s\S]*?[^\s_])_(?![A-Za-z0-9])/,
    make: (m, key) => h('em', { key }, inline(m[1])),
  },
  { re: /https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/, make: (m, key) => link([visibleText(m[0])], m[0], key) },
];

/** Inline Markdown: code, emphasis, links; newlines become line breaks. */
export function inline(text: string): Child[] {
  const out: Child[] = [];
  let rest = text;
  let key = 0;
  while (rest) {
    let best: { m: RegExpExecArray; rule: Rule } | undefined;
    for (const rule of RULES) {
      const m = rule.re.exec(rest);
      if (m && (!best || m.index < best.m.index)) best = { m, rule };
    }
    if (!best) {
      pushText(out, rest, () => key++);
      break;
    }
    if (best.m.index > 0) pushText(out, rest.slice(0, best.m.index), () => key++);
    out.push(best.rule.make(best.m, key++));
    rest = rest.slice(best.m.index + best.m[0].length);
  }
  return out;
}

function pushText(out: Child[], s: string, key: () => number): void {
  const parts = s.split('\n');
  parts.forEach((p, i) => {
    if (i > 0) out.push(h('br', { key: key() }));
    if (p) out.push(visibleProse(p));
  });
}

const FENCE = /^\s{0,3}(```+|~~~+)\s*([\w+-]*)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const HR = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const LIST = /^(\s{0,3})([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === '|') {
      cur += '|';
      i++;
      continue;
    }
    if (s[i] === '|') {
      cells.push(cur.trim());
      cur = '';
      continue;
    }
    cur += s[i];
  }
  cells.push(cur.trim());
  return cells;
}

/** Column alignment from a GFM separator cell (`:--`, `:-:`, `--:`), as a class (the CSP allows no inline style). */
function alignOf(sep: string): string | undefined {
  const left = sep.startsWith(':');
  const right = sep.endsWith(':');
  return left && right ? 'al-c' : right ? 'al-r' : left ? 'al-l' : undefined;
}

// Numbers, amounts, dates and times: kept on one line so "2026-12-05" or "1 234,50" never breaks.
const NUMERIC = /^[-+]?[\d$€£¥]?[\d\s.,:/%$€£¥+-]*\d[\d\s.,:/%$€£¥-]*(?:[ \u00a0]?(?:[AaPp][Mm]|%|[kKMB]))?$/;

export function cellClass(align: string | undefined, cell: string): string | undefined {
  const nowrap = cell.length <= 32 && NUMERIC.test(cell.trim()) ? 'nb' : undefined;
  return [align, nowrap].filter(Boolean).join(' ') || undefined;
}

function startsBlock(line: string, next: string | undefined): boolean {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    HR.test(line) ||
    QUOTE.test(line) ||
    LIST.test(line) ||
    (line.includes('|') && next !== undefined && TABLE_SEP.test(next))
  );
}

function blocks(lines: string[], depth: number): Child[] {
  const out: Child[] = [];
  let i = 0;
  let key = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
      i++;
      out.push(
        h(
          'div',
          { key: key++, class: 'md-code-wrap' },
          h('pre', { class: 'md-code' }, h('code', null, visibleCode(body.join('\n')))),
          h('button', { type: 'button', class: 'copy-code', 'aria-label': 'Copy code', 'aria-live': 'polite' }, 'Copy'),
        ),
      );
      continue;
    }
    if ((m = HEADING.exec(line))) {
      const level = Math.min(6, m[1].length + 1);
      out.push(h(`h${level}`, { key: key++, class: 'md-h' }, inline(m[2])));
      i++;
      continue;
    }
    if (HR.test(line)) {
      out.push(h('hr', { key: key++ }));
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
        body.push(m[1]);
        i++;
      }
      out.push(h('blockquote', { key: key++ }, depth < 8 ? blocks(body, depth + 1) : body.join('\n')));
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1])) {
      const head = splitRow(line);
      const align = splitRow(lines[i + 1]).map(alignOf);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].trim() && lines[i].includes('|')) rows.push(splitRow(lines[i++]));
      out.push(
        h(
          'div',
          // Widened when it must scroll anyway, so prose in it is not one word a line (table-fit.ts).
          { key: key++, class: 'table-wrap', ref: fitTable },
          h(
            'table',
            null,
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                head.map((c, j) => h('th', { key: j, scope: 'col', class: align[j] }, inline(c))),
              ),
            ),
            h(
              'tbody',
              null,
              rows.map((r, k) =>
                h(
                  'tr',
                  { key: k },
                  head.map((_, j) => h('td', { key: j, class: cellClass(align[j], r[j] ?? '') }, inline(r[j] ?? ''))),
                ),
              ),
            ),
          ),
        ),
      );
      continue;
    }
    if ((m = LIST.exec(line))) {
      const indent = m[1].length;
      const ordered = /\d/.test(m[2]);
      const start = ordered ? parseInt(m[2], 10) : undefined;
      const items: string[][] = [];
      while (i < lines.length) {
        const lm = LIST.exec(lines[i]);
        // A marker indented past this list's own is a nested list inside the current item.
        if (lm && items.length && lm[1].length >= indent + 2) {
          items[items.length - 1].push(lines[i].slice(Math.min(lm[1].length, indent + 4)));
          i++;
          continue;
        }
        if (lm && /\d/.test(lm[2]) === ordered) {
          items.push([lm[3]]);
          i++;
          continue;
        }
        // Continuation: indented lines (possibly after blank lines) belong to the current item.
        if (items.length && /^\s{2,}\S/.test(lines[i])) {
          items[items.length - 1].push(lines[i].replace(/^\s{2,4}/, ''));
          i++;
          continue;
        }
        if (items.length && !lines[i].trim() && i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1])) {
          items[items.length - 1].push('');
          i++;
          continue;
        }
        break;
      }
      const lis = items.map((it, k) => {
        let first = it[0];
        let check: Child | undefined;
        const cm = /^\[([ xX])\]\s+(.*)$/.exec(first);
        if (cm) {
          check = cm[1] === ' ' ? '☐ ' : '☑ ';
          first = cm[2];
        }
        const inner = it.length === 1 || depth >= 8 ? inline(first) : blocks([first, ...it.slice(1)], depth + 1);
        return h('li', { key: k }, check ? [check, ...inner] : inner);
      });
      out.push(ordered ? h('ol', { key: key++, start }, lis) : h('ul', { key: key++ }, lis));
      continue;
    }
    const para: string[] = [line];
    i++;
    while (i < lines.length && lines[i].trim() && !startsBlock(lines[i], lines[i + 1])) para.push(lines[i++]);
    out.push(h('p', { key: key++ }, inline(para.join('\n'))));
  }
  return out;
}

/** Render Markdown text as Preact vnodes. */
export function renderMarkdown(text: string): ComponentChildren {
  installCopyCode();
  return blocks(text.replace(/\r\n?/g, '\n').split('\n'), 0);
}
