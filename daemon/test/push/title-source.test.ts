// Who named a thread, told from its texts (push/title-source.ts): a title cut from a message is the
// message, whatever that message holds; a name the person gave is not, however long the thread.
import { describe, expect, it } from 'vitest';
import { titleFrom } from '../../src/agent/records.js';
import { mayBeCutFrom, titleSourceOf } from '../../src/push/title-source.js';

const SECRET = 'sk-abcdefgh12345678';

describe('mayBeCutFrom', () => {
  it.each([
    ['a plain message', 'deploy the site to prod tonight'],
    ['a secret in the first line', `use key ${SECRET} for the upload`],
    ['a cut that splits the [redacted] marker', `${'a'.repeat(50)} key ${SECRET} and more words after it`],
    ['blank and invisible lines first', '  \n\u200b\u200b\n\t deploy it\nsecond line'],
    ['a first line of invisible marks only', '\u0001\u200b\nthe words come later'],
    ['emoji at the cut', `${'x'.repeat(56)}😀 and the rest`],
    ['a long text, the title read from its start', `${'\u200b '.repeat(200)}report ${'word '.repeat(5000)}`],
  ])('a title made from %s counts as cut from it', (_name, text) => {
    expect(mayBeCutFrom(titleFrom(text), text)).toBe(true);
  });

  it('a title made before secrets were taken out still counts', () => {
    expect(mayBeCutFrom('use key [redacted] for the upload', `use key ${SECRET} for the upload`)).toBe(true);
  });

  it('a name the person gave is not cut from a message that does not start with it', () => {
    expect(mayBeCutFrom('Holiday plans', 'book the flights for the holiday plans')).toBe(false);
    expect(mayBeCutFrom('New thread', 'look at this')).toBe(false);
  });
});

describe('titleSourceOf', () => {
  const texts = Array.from({ length: 200 }, (_, i) => `Message ${i}: ${'lorem ipsum '.repeat(40)}`);

  it("a renamed thread's title is the person's, a cut one the message's, wherever that message is", () => {
    expect(titleSourceOf({ title: 'Thread 7', texts, modelNamed: false })).toBe('person');
    const later = [...texts, `deploy with password=${SECRET}`];
    expect(titleSourceOf({ title: titleFrom(later.at(-1)!), texts: later, modelNamed: false })).toBe('message');
    expect(titleSourceOf({ title: 'Thread 7', texts, modelNamed: true })).toBe('model');
    expect(titleSourceOf({ title: 'Thread 7', texts: [], modelNamed: false })).toBe('message');
  });
});
