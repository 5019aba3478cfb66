// Memory file names the model gives are shown on the phone and in the terminal: a new name that holds
// a mark that reorders or hides characters ("\u202egnp.md" reads "dm.png") is refused with a reason
// the model can act on. A file already there under such a name can still be read and removed.
import { afterEach, expect, it } from 'vitest';
import { type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const textOf = (r: { content: Array<{ type: string; text?: string }> }) => r.content.map((b) => b.text ?? '').join('');

it('refuses new names with invisible or direction-changing marks, accepts plain ones', async () => {
  h = await toolsHarness();
  for (const name of [
    '/memories/\u202egnp.md',
    '/memories/notes\u200b.md',
    '/memories/a\u2066b/c.md',
    '/memories/\ufeffx',
  ]) {
    const r = await h.run('memory', { command: 'create', path: name, file_text: 'x' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/invisible or direction-changing/);
  }
  const plain = await h.run('memory', { command: 'create', path: '/memories/Zürich – notes.md', file_text: 'x' });
  expect(plain.isError).toBe(false);
  const renamed = await h.run('memory', {
    command: 'rename',
    old_path: '/memories/Zürich – notes.md',
    new_path: '/memories/\u202edm.md',
  });
  expect(textOf(renamed)).toMatch(/invisible or direction-changing/);
});
