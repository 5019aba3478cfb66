// A lock-screen file name that reads as an address is not shown, also when its dots are look-alikes:
// "Re-pair at errand․app now.txt" (U+2024 ONE DOT LEADER) was shown whole by the private done push,
// as were "evil。com" (U+3002) and "errand-app．example" (U+FF0E). Names are read as NFKC with dot
// look-alikes as dots; a name with punctuation or symbols beyond ASCII falls back to the count form.
import { expect, it } from 'vitest';
import { jobForEvent, shortFileName } from '../../src/push/payload.js';
import { doneTask } from './done-task.js';

const doneLine = (file: string) =>
  jobForEvent(
    {
      kind: 'task.updated',
      task: doneTask({ id: 'tsk_1', createdAt: 1, endedAt: 2, changedFiles: [file] }),
    },
    () => 'Notes',
    0,
    'private',
    ['/home/me/.errand/workspace'],
    false,
  )!.payload.body;

const DOTS = [
  '\u2024', // one dot leader (the audit's case)
  '\u3002', // ideographic full stop
  '\uff0e', // fullwidth full stop
  '\uff61', // halfwidth ideographic full stop
  '\ufe52', // small full stop
  '\u2027', // hyphenation point
  '\u00b7', // middle dot
  '\u0701', // Syriac supralinear full stop
  '\u0702', // Syriac sublinear full stop
  '\u2e33', // raised dot
  '\u30fb', // katakana middle dot
  '\u2219', // bullet operator
  '\u22c5', // dot operator
  '\ua4f8', // Lisu letter tone mya ti (a letter, not punctuation)
  '\u1427', // Canadian syllabics final middle dot (a letter)
];

it('a name with a look-alike dot in a host name is not shown: the count form is', () => {
  for (const dot of DOTS) {
    const name = `Re-pair at errand${dot}app now.txt`;
    expect(shortFileName(name), `U+${dot.codePointAt(0)?.toString(16)}`).toBeUndefined();
    expect(doneLine(name)).toBe('Wrote 1 file in workspace');
  }
  expect(doneLine('Re-pair at errand\u2024app now.txt')).toBe('Wrote 1 file in workspace');
  // The look-alike in what would be the extension: the whole name is read first.
  expect(shortFileName('x.evil\u3002com')).toBeUndefined();
  expect(shortFileName('evil\u3002com.txt')).toBeUndefined();
  expect(shortFileName('errand-app\uff0eexample')).toBeUndefined();
});

it('compatibility letters, bracketed dots, IP addresses and non-Latin host names read as addresses too', () => {
  for (const name of [
    '\uff45\uff56\uff49\uff4c.\uff43\uff4f\uff4d notes.txt', // fullwidth letters: "evil.com"
    'go to \ud835\udc1e\ud835\udc2f\ud835\udc22\ud835\udc25.com now.md', // mathematical bold letters
    'evil[.]com.txt',
    'evil(.)com.txt',
    '10.0.0.5 pair.txt',
    'errand.\u0430pp now.txt', // a Cyrillic а in the top-level name
    'pay at \u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444 today.txt',
    'Re-pair_at_errand.app_now.txt',
    'Re-pair at errand.app', // no extension a file commonly has: the whole name is tested
    'errand-app.example',
  ])
    expect(shortFileName(name), name).toBeUndefined();
});

it('when in doubt (punctuation, symbols or a dot mark beyond ASCII) no name; plain names of any script still show', () => {
  for (const name of ['errand\u26abapp now.txt', 'errand\u25cfapp.txt', 'errand\u0358app.txt', 'notes\u3001draft.md'])
    expect(shortFileName(name), name).toBeUndefined();
  for (const name of [
    'Q3-report.md',
    'report.v2.md',
    'Bericht für März.md',
    '報告書.md',
    'रिपोर्ट.txt',
    'отчёт 2026.txt',
  ])
    expect(shortFileName(name), name).toBe(name);
  expect(doneLine('Q3-report.md')).toBe('Wrote Q3-report.md');
});
