// Globs from the model are matched without backtracking: the same answers as before, and a pattern
// built to blow up a regular expression ends at once.
import { describe, expect, it } from 'vitest';
import { globMatcher, MAX_ALTERNATIVES } from '../../src/tools/glob.js';

describe('glob matching', () => {
  it.each([
    ['*.md', 'notes.md', true],
    ['*.md', 'a/notes.md', false],
    ['**/*.md', 'a/b/notes.md', true],
    ['**/*.md', 'notes.md', true],
    ['src/**', 'src/a/b.ts', true],
    ['a**b', 'a/x/b', true],
    ['?.txt', 'a.txt', true],
    ['?.txt', '/.txt', false],
    ['report-[0-9].csv', 'report-7.csv', true],
    ['report-[!0-9].csv', 'report-x.csv', true],
    ['report-[!0-9].csv', 'report-7.csv', false],
    ['*.{png,jpg}', 'chart.jpg', true],
    ['*.{png,jpg}', 'chart.gif', false],
    ['{a,b{c,d}}.txt', 'bd.txt', true],
    ['git status', 'git status', true],
    ['*token*', '{"token":"x"}', true],
    ['*token*', '{"url":"https://x/token"}', false],
  ])('%s on %s: %s', (glob, text, expected) => {
    expect(globMatcher(glob)(text)).toBe(expected);
  });

  it('case-insensitive when asked', () => {
    expect(globMatcher('*.MD', { caseInsensitive: true })('Notes.md')).toBe(true);
    expect(globMatcher('*.MD')('Notes.md')).toBe(false);
  });

  it('a pattern made to make a regular expression backtrack ends at once', () => {
    const glob = `${'{*,*}'.repeat(6)}${'*'.repeat(40)}Z`;
    const name = 'a'.repeat(4000);
    const t0 = performance.now();
    expect(globMatcher(glob)(name)).toBe(false);
    expect(globMatcher(`*${'a*'.repeat(200)}Z`)(name)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('too many alternatives is a clear error', () => {
    expect(() => globMatcher('{a,b}'.repeat(7))).toThrow(new RegExp(`more than ${MAX_ALTERNATIVES} alternatives`));
  });
});
