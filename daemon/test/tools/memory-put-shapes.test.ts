// memory.put from a device: a name under a note, a name that is a folder and a new name with an
// invisible or direction-changing character are bad_request with a sentence (not internal), and
// nothing is written; an existing note is still saved over.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('refuses names it cannot save with what to do instead', async () => {
  h = await toolsHarness();
  await h.send('memory.put', { path: '/memories/f.md', text: 'a note' });
  await h.send('memory.put', { path: '/memories/dd/x.md', text: 'in a folder' });
  const listing = () => fs.readdirSync(h!.ctx.paths.memory, { recursive: true }).map(String).sort();
  const before = listing();

  await expect(h.send('memory.put', { path: '/memories/f.md/c.md', text: 'x' })).rejects.toMatchObject({
    code: 'bad_request',
    message: '/memories/f.md is a note, not a folder: choose another name.',
  });
  await expect(h.send('memory.put', { path: '/memories/dd', text: 'x' })).rejects.toMatchObject({
    code: 'bad_request',
    message: '/memories/dd is a folder: name a file inside it, like /memories/dd/notes.md.',
  });
  await expect(h.send('memory.put', { path: '/memories/\u202Egnp.md', text: 'x' })).rejects.toMatchObject({
    code: 'bad_request',
    message: expect.stringContaining('invisible or direction-changing character'),
  });
  expect(listing()).toEqual(before);

  // Saving over a note, and a new one in a new folder, still work.
  await h.send('memory.put', { path: '/memories/f.md', text: 'changed' });
  await h.send('memory.put', { path: '/memories/new/n.md', text: 'new' });
  expect(fs.readFileSync(path.join(h.ctx.paths.memory, 'f.md'), 'utf8')).toBe('changed');
  expect(fs.readFileSync(path.join(h.ctx.paths.memory, 'new', 'n.md'), 'utf8')).toBe('new');
});
