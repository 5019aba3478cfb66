// Memory's bound holds under parallel writes: the look at the bound and the write are one step per
// memory folder. Apart, 16 tasks at once each saw room for one more note and all wrote it (499 files
// became 515, 4.9 MB became 6.3 MB), and phone edits raced past it the same way.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { MAX_MEMORY_FILES, MAX_MEMORY_TOTAL_BYTES } from '../../../shared/src/index.js';
import { memoryFiles } from '../../src/tools/memory/bounds.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
afterEach(async () => {
  await h?.close();
});

function fill(count: number, bytes: number): void {
  const at = path.join(h.ctx.paths.memory, 'old');
  fs.mkdirSync(at, { recursive: true });
  for (let i = 0; i < count; i++)
    fs.writeFileSync(path.join(at, `${String(i).padStart(5, '0')}.md`), 'x'.repeat(bytes));
}

async function held() {
  const files = await memoryFiles(h.ctx.paths.memory);
  return { files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}

it('16 parallel tasks creating a note each, with room for one: exactly one is written', async () => {
  h = await toolsHarness();
  fill(MAX_MEMORY_FILES - 1, 10);
  const results = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      h.run('memory', { command: 'create', path: `/memories/new-${i}.md`, file_text: `note ${i}` }, h.task()),
    ),
  );
  expect(results.filter((r) => !r.isError)).toHaveLength(1);
  for (const r of results.filter((r) => r.isError)) expect(textOf(r)).toContain('memory already holds 500 files');
  expect((await held()).files).toBe(MAX_MEMORY_FILES);
});

it('parallel tasks and phone edits together stay within the total size', async () => {
  h = await toolsHarness();
  fill(49, 100_000); // 4.9 MB: room for one more 90 KB note
  const note = 'n'.repeat(90_000);
  const creates = Array.from({ length: 8 }, (_, i) =>
    h.run('memory', { command: 'create', path: `/memories/task-${i}.md`, file_text: note }, h.task()),
  );
  const puts = Array.from({ length: 8 }, (_, i) =>
    h.send('memory.put', { path: `/memories/phone-${i}.md`, text: note }).then(
      () => true,
      (err) => {
        expect(err).toMatchObject({
          code: 'too_large',
          message: expect.stringContaining('not saved: memory would hold'),
        });
        return false;
      },
    ),
  );
  const written =
    (await Promise.all(creates)).filter((r) => !r.isError).length + (await Promise.all(puts)).filter(Boolean).length;
  expect(written).toBe(1);
  const after = await held();
  expect(after).toEqual({ files: 50, bytes: 4_990_000 });
  expect(after.bytes).toBeLessThanOrEqual(MAX_MEMORY_TOTAL_BYTES);
});

it('a write that fails does not hold up the next one', async () => {
  h = await toolsHarness();
  await expect(h.send('memory.put', { path: '/memories/x.md', text: 'y'.repeat(200_000) })).rejects.toMatchObject({
    code: 'too_large',
  });
  fill(MAX_MEMORY_FILES, 1);
  await expect(h.send('memory.put', { path: '/memories/y.md', text: 'y' })).rejects.toMatchObject({
    code: 'too_large',
  });
  fs.rmSync(path.join(h.ctx.paths.memory, 'old', '00000.md'));
  expect((await h.send('memory.put', { path: '/memories/y.md', text: 'y' })).entry.bytes).toBe(1);
});
