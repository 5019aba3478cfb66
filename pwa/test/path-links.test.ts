import { expect, it } from 'vitest';
import { renderMarkdown } from '../src/lib/markdown.js';
import { linkPaths, pathTargets } from '../src/lib/path-links.js';
import { toHtml } from './vnode-text.js';

const files = [
  { path: '/home/me/Projects/report.md', rel: 'Projects/report.md' },
  { path: '/home/me/Projects/a/notes.md', rel: 'Projects/a/notes.md' },
  { path: '/home/me/Projects/b/notes.md', rel: 'Projects/b/notes.md' },
];
const href = (p: string) => `#file=${encodeURIComponent(p)}`;
const render = (md: string) => toHtml(linkPaths(renderMarkdown(md), href, pathTargets(files)));

it('links a code or bold span naming a produced file by its name, folder path or path', () => {
  expect(render('Wrote **report.md** and `Projects/a/notes.md`.')).toBe(
    '<p>Wrote <a class="path-link" href="#file=%2Fhome%2Fme%2FProjects%2Freport.md" aria-label="Open report.md"><strong>report.md</strong></a>' +
      ' and <a class="path-link" href="#file=%2Fhome%2Fme%2FProjects%2Fa%2Fnotes.md" aria-label="Open Projects/a/notes.md"><code>Projects/a/notes.md</code></a>.</p>',
  );
});

it('leaves alone a name two files share, words that are not files, code blocks and links', () => {
  const out = render(
    '`notes.md` and *report.md* and **other.md**\n\n```\nreport.md\n```\n\n[`report.md`](https://example.org)',
  );
  expect(out).not.toContain('path-link');
  expect(render('plain report.md text')).not.toContain('<a');
});
