// `errand memory edit <note> </dev/null` (cron, a script, ssh without -t): an empty stdin is no
// input, not a request to wipe the note.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.js';
import { makeMemoryCommand } from '../../src/cli/commands/memory.js';
import { type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness;
afterEach(async () => {
  await h?.close();
});

async function edit(argv: string[], stdin: string) {
  const cmd = makeMemoryCommand({ readStdin: () => stdin });
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseCommandArgs(cmd, argv);
  const code = await cmd.run(
    { values: parsed.values, positionals: parsed.positionals, home: h.home },
    { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, interactive: false, confirm: async () => false },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

it('refuses empty piped input and keeps the note; piped text and --text "" still work', async () => {
  h = await toolsHarness({ listen: true });
  const note = path.join(h.ctx.paths.memory, 'notes.md');
  await h.run('memory', { command: 'create', path: '/memories/notes.md', file_text: 'Keep this.' });

  const empty = await edit(['edit', 'notes.md'], '');
  expect(empty.code).toBe(2);
  expect(empty.err).toContain('nothing came on stdin');
  expect(empty.err).toContain("--text ''");
  expect(fs.readFileSync(note, 'utf8')).toBe('Keep this.');

  expect((await edit(['edit', 'notes.md'], 'Piped.')).code).toBe(0);
  expect(fs.readFileSync(note, 'utf8')).toBe('Piped.');

  const emptied = await edit(['edit', 'notes.md', '--text', ''], '');
  expect(emptied.code).toBe(0);
  expect(fs.readFileSync(note, 'utf8')).toBe('');
});
