// A push's title and line are cut for the lock screen without splitting a character as drawn: an emoji
// sequence (a family, a person at a laptop), a flag, a skin tone, a letter with its accent stay whole
// or go whole. The joiner inside an emoji ("👩‍💻") is kept, not made a space; a joiner or a direction
// mark anywhere else still goes. Secrets are taken out before the cut, so no piece of one is left.
import { describe, expect, it } from 'vitest';
import { jobForEvent, oneLine } from '../../src/push/payload.js';
import { doneTask } from './done-task.js';

const graphemes = (s: string) =>
  Array.from(new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(s), (x) => x.segment);
const codePoints = (s: string) => Array.from(s).length;

/** A cut `shown` of `whole` ends with "…" after whole graphemes of `whole`, at most `max` code points in all. */
function expectWholeCut(shown: string, whole: string, max: number): void {
  expect(shown.endsWith('…')).toBe(true);
  expect(codePoints(shown)).toBeLessThanOrEqual(max);
  const kept = graphemes(shown.slice(0, -1));
  expect(graphemes(whole).slice(0, kept.length)).toEqual(kept);
}

/** The title of a done push for a thread the person named `title` (private) or any title (full). */
const doneTitle = (title: string, previews: 'private' | 'full' = 'private') =>
  jobForEvent(
    { kind: 'task.updated', task: doneTask() },
    () => title,
    Date.now(),
    previews,
    [],
    false,
    () => 'person',
  )!.payload.title;

describe('lock-screen cuts keep characters whole', () => {
  it('keeps the joiner of an emoji sequence, and drops one between letters', () => {
    expect(doneTitle('Pair session 👩‍💻 and 👨‍👩‍👧‍👦')).toBe('Pair session 👩‍💻 and 👨‍👩‍👧‍👦');
    expect(doneTitle('Thumbs 👍🏽 and ❤️')).toBe('Thumbs 👍🏽 and ❤️');
    expect(oneLine('a\u200db\u202eevil', 90)).toBe('a b evil');
  });

  it.each([
    ['a family', '👨‍👩‍👧‍👦'],
    ['a person at a laptop', '👩‍💻'],
    ['a flag', '🇫🇷'],
    ['a skin tone', '👍🏽'],
    ['a letter and its accent', 'e\u0301'],
    ['a plain emoji', '😀'],
  ])('a title cut where %s stands is cut before it, never inside it', (_name, ch) => {
    // Every position of the 90-code-point limit across the characters (the title always longer).
    for (let lead = 80; lead <= 90; lead++) {
      const title = `${'x'.repeat(lead)}${ch.repeat(12)}`;
      const shown = doneTitle(title);
      expectWholeCut(shown, title, 90);
    }
  });

  it('cuts only by whole characters when the text is all emoji', () => {
    const title = '👩‍💻'.repeat(40);
    const shown = doneTitle(title);
    expectWholeCut(shown, title, 90);
    expect(shown).toBe(`${'👩‍💻'.repeat(29)}…`);
  });
});

describe('secrets are taken out before the cut', () => {
  const token = 'AbC1dEf2GhI3jKl4MnO5pQr6StU7vWx8YzA9';

  it('a full-preview title with a token across the limit shows no piece of it', () => {
    const title = `${'Deploy notes '.repeat(5)}${'y'.repeat(10)} ${token}`;
    const shown = doneTitle(title, 'full');
    expect(shown).not.toMatch(/AbC1dEf2/);
    expect(shown).toContain('[redacted]');
  });

  it('a full-preview answer line with a token across the limit shows no piece of it', () => {
    const answer = `${'The build ran fine and the report is ready. '.repeat(4)}${'z'.repeat(25)} ${token}`;
    const job = jobForEvent(
      { kind: 'task.updated', task: doneTask({ resultSummary: answer }) },
      () => 'Builds',
      Date.now(),
      'full',
    )!;
    expect(job.payload.body).not.toMatch(/AbC1dEf2/);
  });
});
