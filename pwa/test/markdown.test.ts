import { describe, expect, it } from 'vitest';
import { renderMarkdown, safeHref } from '../src/lib/markdown.js';
import { plainLine } from '../src/lib/plain.js';
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
      '<p><a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow" target="_blank">site<bdo dir="ltr" class="link-host"> (example.com)</bdo></a></p>',
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
    expect(out).toContain(
      '<table><thead><tr><th scope="col">Region</th><th scope="col" class="al-r">Sales</th></tr></thead>',
    );
    expect(out).toContain('<tr><td>North</td><td class="al-r nb">10</td></tr>');
    expect(out).toContain('<td class="al-r">7 | 8</td>');
  });

  it('aligns table columns as the separator row says and keeps numbers and dates unbroken', () => {
    const out = md('| L | C | R |\n|:--|:-:|--:|\n| a | 2026-12-05 | 1 234,50 € |\n| b | 14:05 | two words |');
    expect(out).toContain('<th scope="col" class="al-l">L</th><th scope="col" class="al-c">C</th>');
    expect(out).toContain(
      '<td class="al-l">a</td><td class="al-c nb">2026-12-05</td><td class="al-r nb">1 234,50 €</td>',
    );
    expect(out).toContain('<td class="al-c nb">14:05</td><td class="al-r">two words</td>');
  });

  it('nests lists by indentation (two or more spaces past the parent marker)', () => {
    expect(md('- fruit\n  - apple\n  - pear\n- veg')).toBe(
      '<ul><li><p>fruit</p><ul><li>apple</li><li>pear</li></ul></li><li>veg</li></ul>',
    );
    expect(md('1. plan\n   1. draft\n      - note\n2. ship')).toBe(
      '<ol start="1"><li><p>plan</p><ol start="1"><li><p>draft</p><ul><li>note</li></ul></li></ol></li><li>ship</li></ol>',
    );
  });

  it('renders lists, nested content, task boxes and fenced code', () => {
    expect(md('- one\n- two\n  more\n\n1. first\n2. second')).toBe(
      '<ul><li>one</li><li><p>two<br></br>more</p></li></ul><ol start="1"><li>first</li><li>second</li></ol>',
    );
    expect(md('- [x] done\n- [ ] todo')).toBe('<ul><li>☑ done</li><li>☐ todo</li></ul>');
    expect(md('```js\nconst a = "<b>";\n```')).toBe(
      '<div class="md-code-wrap"><pre class="md-code"><code>const a = "&lt;b&gt;";</code></pre><button type="button" class="copy-code" aria-label="Copy code" aria-live="polite">Copy</button></div>',
    );
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

describe('plain previews', () => {
  it('shows a line of Markdown as plain words', () => {
    expect(plainLine('## **Sales** rose by *12%* in `Q3`')).toBe('Sales rose by 12% in Q3');
    expect(plainLine('- [x] see [the report](https://x.example/r) and ~~old~~ __new__')).toBe(
      'see the report and old new',
    );
    expect(plainLine('> quoted_name_kept 1. \\*literal\\*')).toBe('quoted_name_kept 1. *literal*');
    expect(plainLine('| North | 10 |')).toBe('North · 10');
    expect(plainLine('3 * 4 = 12')).toBe('3 * 4 = 12');
  });
});

describe('characters that make text read otherwise', () => {
  it("shows direction overrides, embeddings and isolates in the model's prose as markers", () => {
    const out = md(
      'Saved as **invoice\u202Efdp.exe** and report\u2067x\u2069.\n\n- item \u202Ax\u202C\n\n| a\u202Eb |\n|---|\n| c\u2066d |',
    );
    expect(out).toContain('<strong>invoice⟨U+202E⟩fdp.exe</strong>');
    expect(out).toContain('report⟨U+2067⟩x⟨U+2069⟩.');
    expect(out).toContain('item ⟨U+202A⟩x⟨U+202C⟩');
    expect(out).toContain('a⟨U+202E⟩b');
    expect(out).toContain('c⟨U+2066⟩d');
    expect(out).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it('keeps what ordinary writing uses in prose: direction marks, joiners, no-break spaces, emoji', () => {
    const text = 'שלום\u200F world, می\u200Cخواهم, 10\u00A0km, 👩\u200D💻';
    expect(md(text)).toBe(`<p>${text}</p>`);
  });

  it('shows every hidden character in code, keeping tabs and line breaks', () => {
    const out = md('Run `rm\u200B -rf x`:\n\n```sh\nif x; then\n\techo ok # \u202E} ⁦// admin\u2069\nfi\r\n```');
    expect(out).toContain('<code>rm⟨U+200B⟩ -rf x</code>');
    expect(out).toContain('\techo ok # ⟨U+202E⟩} ⟨U+2066⟩// admin⟨U+2069⟩\nfi');
    expect(out).not.toMatch(/[\u200b\u202e\u2066\u2069]/);
  });

  it('shows hidden characters in a bare address and an image description', () => {
    const out = md('See https://example.com/\u202Efdp.exe and ![a\u202Eb](x.png)');
    expect(out).toContain('https://example.com/⟨U+202E⟩fdp.exe');
    expect(out).toContain('[image: a⟨U+202E⟩b]');
  });
});
