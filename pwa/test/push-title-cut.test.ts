// The service worker cuts a push's title and line for the notification without splitting a character
// as drawn: never half an emoji (a lone surrogate) before the "…", never a family or a flag cut in two,
// never half a ⟨U+XXXX⟩ marker. Browsers without Intl.Segmenter cut by code point: still no lone half.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { notificationFor } from '../src/push-payload.js';

const O = 'https://errand.example';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const graphemes = (s: string) =>
  Array.from(new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(s), (x) => x.segment);

const shownTitle = (title: string) => notificationFor({ type: 'task.done', title, threadId: 'th_1' }, O).title;

/** `shown` is whole graphemes of `whole` and a "…", at most `max` code points. */
function expectWholeCut(shown: string, whole: string, max: number): void {
  expect(shown.endsWith('…')).toBe(true);
  expect(LONE_SURROGATE.test(shown)).toBe(false);
  expect(Array.from(shown).length).toBeLessThanOrEqual(max);
  const kept = graphemes(shown.slice(0, -1));
  expect(graphemes(whole).slice(0, kept.length)).toEqual(kept);
}

describe('notification cuts keep characters whole', () => {
  it.each([
    ['plain emoji', '😀'],
    ['a person at a laptop', '👩‍💻'],
    ['a family', '👨‍👩‍👧‍👦'],
    ['a flag', '🇫🇷'],
    ['a skin tone', '👍🏽'],
  ])('%s across the 120 limit of a title is kept whole or left out', (_name, ch) => {
    for (let lead = 110; lead <= 120; lead++) {
      const title = `${'x'.repeat(lead)}${ch.repeat(12)}`;
      expectWholeCut(shownTitle(title), title, 120);
    }
  });

  it('a title of emoji only: whole emoji, no half of one', () => {
    const title = '😀'.repeat(130);
    expect(shownTitle(title)).toBe(`${'😀'.repeat(119)}…`);
  });

  it('a line (the body) is cut the same way', () => {
    const body = `${'y'.repeat(297)}${'👩‍💻'.repeat(4)}`;
    const n = notificationFor({ type: 'task.done', title: 'Done', body, threadId: 'th_1' }, O);
    expectWholeCut(n.body, body, 300);
    expect(n.body).toBe(`${'y'.repeat(297)}…`);
  });

  it('a marker for a hidden character is never cut in two', () => {
    for (let lead = 110; lead <= 119; lead++) {
      const shown = shownTitle(`${'x'.repeat(lead)}\u200b${'z'.repeat(20)}`);
      expect(shown).not.toMatch(/⟨[^⟩]*$/);
      expect(shown.endsWith('…')).toBe(true);
    }
  });
});

describe('without Intl.Segmenter (older browsers)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('cuts by code point: no lone surrogate, no joiner left dangling', async () => {
    vi.stubGlobal('Intl', { ...Intl, Segmenter: undefined });
    vi.resetModules();
    const { notificationFor: withoutSegmenter } = await import('../src/push-payload.js');
    for (let lead = 110; lead <= 120; lead++) {
      const shown = withoutSegmenter({ type: 'task.done', title: `${'x'.repeat(lead)}${'👩‍💻'.repeat(12)}` }, O).title;
      expect(LONE_SURROGATE.test(shown)).toBe(false);
      expect(shown).not.toMatch(/\u200d…$/);
      expect(Array.from(shown).length).toBeLessThanOrEqual(120);
    }
  });
});
