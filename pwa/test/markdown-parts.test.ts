import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/lib/markdown.js';
import { markdownParts } from '../src/lib/markdown-parts.js';
import { toHtml } from './vnode-text.js';

const whole = (s: string) => toHtml(renderMarkdown(s));
const byParts = (s: string) =>
  markdownParts(s)
    .map((p) => toHtml(renderMarkdown(p)))
    .join('');

const ANSWER = [
  '## Summary',
  '',
  'I read the **3 files** in `Downloads` and wrote the report.',
  'A second line of the same paragraph.',
  '',
  '- The invoices from March;',
  '- two PDFs are *scans*;',
  '',
  '- a loose item after a blank line;',
  '  continued, indented',
  '',
  '  and a paragraph inside it after a blank line.',
  '',
  '1. first',
  '2. second',
  '',
  '```js',
  'const total = 17;',
  '',
  '',
  'console.log(total);',
  '```',
  '',
  '> quoted',
  '> still quoted',
  '',
  '> another quote',
  '',
  '| Item | EUR |',
  '| :--- | --: |',
  '| Rent | 1 200 |',
  '',
  '---',
  '',
  '~~~',
  'a tilde fence',
  '',
  'unindented inside it',
  '~~~',
  'Tell me if you want the report as a spreadsheet too.',
].join('\n');

describe('streamed Markdown in parts', () => {
  it('renders every stage of a streaming answer, part by part, exactly as the whole text', () => {
    // Each prefix is what the phone holds at some point of the stream.
    for (let n = 0; n <= ANSWER.length; n++) {
      const text = ANSWER.slice(0, n);
      expect(byParts(text), `after ${n} characters`).toBe(whole(text));
    }
  });

  it('cuts only where a new block starts: blank line, then an unindented line outside a fence', () => {
    expect(markdownParts('a\nb\n\nc')).toEqual(['a\nb\n', 'c']);
    expect(markdownParts('\n\nfirst\n\nsecond')).toEqual(['\n\nfirst\n', 'second']);
    expect(markdownParts('- a\n\n  b\n\nc')).toEqual(['- a\n\n  b\n', 'c']);
    expect(markdownParts('```\nx\n\ny\n```\n\nz')).toEqual(['```\nx\n\ny\n```\n', 'z']);
    // An unfinished fence keeps everything after it in one part.
    expect(markdownParts('```\nx\n\ny')).toEqual(['```\nx\n\ny']);
    expect(markdownParts('')).toEqual(['']);
    // A fence inside a list item need not close before the list ends: no cuts after it.
    const listFence = 'Intro\n\n- item\n  ```\n  code\n\nPara\n\n```\nfenced\n\nNot a paragraph\n```\n\nEnd';
    expect(markdownParts(listFence)).toEqual(['Intro\n', listFence.slice('Intro\n\n'.length)]);
    for (let n = 0; n <= listFence.length; n++)
      expect(byParts(listFence.slice(0, n))).toBe(whole(listFence.slice(0, n)));
  });
});
