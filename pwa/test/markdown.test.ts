import { describe, expect, it } from 'vitest';
import { renderMarkdown, safeHref } from '../src/lib/markdown.js';
import { toHtml } from './vnode-text.js';

const md = (s: string) => toHtml(renderMarkdown(s));

describe('safe markdown renderer', () => {
  it('renders headings, emphasis, code and paragraphs', () => {
    expect(md('# Report\n\nSales **rose** by *12%* in `Q3`.')).toBe(
      '<h2 class="md-h">Report</h2><p>Sales <strong>rose</strong> by <em>12%</em> in <code>Q3</code>.</p>',
    );
  });

  it('keeps HTML in the text as text, never as markup', () => {
    const out = md('<img src=x onerror=alert(1)> <script>alert(1)</script>');
    expect(out).toBe('<p>&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('links only http(s) and mailto, opened safely', () => {
    expect(md('[site](https://example.com/a?b=1)')).toBe(
      '<p><a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow" target="_blank">site</a></p>',
    );
    expect(md('[x](javascript:alert(1))')).not.toContain('href');
    expect(md('[x](data:text/html,hi)')).not.toContain('href');
    expect(md('[x](/relative)')).not.toContain('href');
    expect(safeHref('JaVaScRiPt:alert(1)')).toBeUndefined();
    expect(safeHref('mailto:a@b.c')).toBe('mailto:a@b.c');
  });

  it('never loads images: shows their alt text', () => {
    const out = md('![chart](https://evil.example/track.png)');
    expect(out).toBe('<p><span class="md-img">[image: chart]</span></p>');
    expect(out).not.toContain('<img');
  });

  it('renders GFM tables', () => {
    const out = md('| Region | Sales |\n|---|---:|\n| North | 10 |\n| South | 7 \\| 8 |');
    expect(out).toContain('<table><thead><tr><th scope="col">Region</th><th scope="col">Sales</th></tr></thead>');
    expect(out).toContain('<tr><td>North</td><td>10</td></tr>');
    expect(out).toContain('<td>7 | 8</td>');
  });

  it('renders lists, nested content, task boxes and fenced code', () => {
    expect(md('- one\n- two\n  more\n\n1. first\n2. second')).toBe(
      '<ul><li>one</li><li><p>two<br></br>more</p></li></ul><ol start="1"><li>first</li><li>second</li></ol>',
    );
    expect(md('- [x] done\n- [ ] todo')).toBe('<ul><li>☑ done</li><li>☐ todo</li></ul>');
    expect(md('```js\nconst a = "<b>";\n```')).toBe('<pre class="md-code"><code>const a = "&lt;b&gt;";</code></pre>');
  });

  it('renders blockquotes, rules, bare links and line breaks', () => {
    expect(md('> quoted\n\n---\nsee https://example.com.')).toBe(
      '<blockquote><p>quoted</p></blockquote><hr></hr><p>see <a href="https://example.com/" rel="noopener noreferrer nofollow" target="_blank">https://example.com</a>.</p>',
    );
    expect(md('a\nb')).toBe('<p>a<br></br>b</p>');
  });

  it('is robust to unclosed markers and deep nesting', () => {
    expect(md('**not closed and `tick')).toBe('<p>**not closed and `tick</p>');
    const deep = '>'.repeat(200) + ' x';
    expect(() => md(deep)).not.toThrow();
    expect(() => md('- a\n'.repeat(2000))).not.toThrow();
  });
});
