// Memory file names the model gives are shown on the phone and in the terminal: a name that holds a
// mark that reorders or hides characters ("\u202egnp.md" reads "dm.png") is refused with a reason
// the model can act on, like any other path that is not plain.
import { expect, it } from 'vitest';
import { memoryPath } from '../../src/tools/memory/paths.js';

const ROOT = '/home/someone/.local/state/errand/memory';

it('refuses names with invisible or direction-changing marks, accepts plain ones', () => {
  for (const name of [
    '/memories/\u202egnp.md',
    '/memories/notes\u200b.md',
    '/memories/a\u2066b/c.md',
    '/memories/\ufeffx',
  ])
    expect(() => memoryPath(ROOT, name)).toThrow(/invisible or direction-changing/);
  expect(memoryPath(ROOT, '/memories/projects/Zürich – notes.md').name).toBe('/memories/projects/Zürich – notes.md');
  expect(memoryPath(ROOT, '/memories/日本語.md').segments).toEqual(['日本語.md']);
});
