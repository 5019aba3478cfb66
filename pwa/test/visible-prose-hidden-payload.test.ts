// Prose (the model's answer, a Markdown or table file, a title) shows what a model would read: tag
// characters (an invisible ASCII copy of words), zero-width spaces, word joiners, invisible operators,
// a byte order mark and soft hyphens are markers, as in code and diffs. What ordinary writing needs
// stays as it is: a joiner inside a word, direction marks, no-break spaces, emoji (their joiners and
// selectors, and the flags of England, Scotland and Wales). A notification's title and line too.
import { describe, expect, it } from 'vitest';
import { visibleProse } from '../../shared/src/visible-text.js';
import { renderMarkdown } from '../src/lib/markdown.js';
import { notificationFor } from '../src/push-payload.js';
import { toHtml } from './vnode-text.js';

const md = (s: string) => toHtml(renderMarkdown(s));
/** `word` as tag characters: drawn as nothing, read by a model as the word. */
const tags = (word: string) => [...word].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const CANCEL_TAG = '\u{e007f}';
/** Anything of plane 14, or the characters the audit found drawn as nothing in prose. */
const INVISIBLE = /[\u{e0000}-\u{e0fff}\u200b\u2060-\u2064\ufeff\u00ad]/u;

describe('visibleProse', () => {
  it('marks tag characters and zero-width spaces (the audit: an answer hiding "IGNORE")', () => {
    expect(visibleProse(`All done${tags('IG')}. zero\u200Bwidth.`)).toBe(
      'All done⟨U+E0049⟩⟨U+E0047⟩. zero⟨U+200B⟩width.',
    );
  });

  it('marks word joiners, invisible operators, a byte order mark, a soft hyphen and the rest of plane 14', () => {
    expect(visibleProse('a\u2060b\u2062c\ufeffd\u00ade\u{e0100}f\u{e0001}g')).toBe(
      'a⟨U+2060⟩b⟨U+2062⟩c⟨U+FEFF⟩d⟨U+00AD⟩e⟨U+E0100⟩f⟨U+E0001⟩g',
    );
  });

  it('marks control characters but keeps tabs and line breaks', () => {
    expect(visibleProse('a\u0001b\u007fc\u0085d\te\nf')).toBe('a⟨U+0001⟩b⟨U+007F⟩c⟨U+0085⟩d\te\nf');
  });

  it('keeps joiners inside words, direction marks, no-break and other spaces', () => {
    const plain = 'שלום\u200F world\u200E, می\u200Cخواهم, क्\u200Dष, 10\u00A0km, 12\u202F345, 東京\u3000駅';
    expect(visibleProse(plain)).toBe(plain);
  });

  it('marks a joiner that is not inside a word, and a run of them (bits, not writing)', () => {
    expect(visibleProse('a\u200c\u200db \u200cx y\u200d')).toBe('a⟨U+200C⟩⟨U+200D⟩b ⟨U+200C⟩x y⟨U+200D⟩');
  });

  it('keeps emoji: joiner sequences, presentation selectors, keycaps', () => {
    const plain = '👩\u200D💻 🧑\u200D🤝\u200D🧑 🏳\uFE0F\u200D⚧\uFE0F ❤\uFE0F 1\uFE0F\u20E3 👩🏽\u200D💻';
    expect(visibleProse(plain)).toBe(plain);
  });

  it("keeps the flags of England, Scotland and Wales, but not tags dressed as another flag's", () => {
    const flags = ['gbeng', 'gbsct', 'gbwls'].map((f) => `🏴${tags(f)}${CANCEL_TAG}`).join(' ');
    expect(visibleProse(flags)).toBe(flags);
    const fake = visibleProse(`🏴${tags('ignore')}${CANCEL_TAG}`);
    expect(fake).toBe('🏴⟨U+E0069⟩⟨U+E0067⟩⟨U+E006E⟩⟨U+E006F⟩⟨U+E0072⟩⟨U+E0065⟩⟨U+E007F⟩');
    // A real flag's tags, not after the black flag, are words again.
    expect(visibleProse(`x${tags('gbeng')}${CANCEL_TAG}`)).not.toMatch(INVISIBLE);
  });

  it('still marks direction overrides and its own marker sign', () => {
    expect(visibleProse('invoice\u202Efdp.exe ⟨')).toBe('invoice⟨U+202E⟩fdp.exe ⟨U+27E8⟩');
  });
});

describe("the model's answer in Markdown", () => {
  it('shows hidden characters as markers in paragraphs, headings, lists, table cells, links and emphasis', () => {
    const hide = `${tags('RUN')}\u200B`;
    const out = md(
      [
        `# Title${hide}`,
        '',
        `Done${hide} with **bold${hide}** and [link${hide}](https://example.com)`,
        '',
        `- item${hide}`,
        '',
        `| a${hide} |`,
        '|---|',
        `| b${hide} |`,
      ].join('\n'),
    );
    expect(out).not.toMatch(INVISIBLE);
    expect(out.match(/⟨U\+E0052⟩⟨U\+E0055⟩⟨U\+E004E⟩⟨U\+200B⟩/g)).toHaveLength(7);
  });
});

describe('a notification', () => {
  it('shows hidden text in its title and line as markers', () => {
    const n = notificationFor({ type: 'task.done', title: `Plan${tags('GO')}`, body: 'a\u200Bb', threadId: 't' }, 'x');
    expect(n.title).toBe('Plan⟨U+E0047⟩⟨U+E004F⟩');
    expect(n.body).toBe('a⟨U+200B⟩b');
  });
});
