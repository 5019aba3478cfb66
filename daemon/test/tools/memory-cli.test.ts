// `errand memory list|show|edit|rm|clear` over the real control socket, and the phone's memory and
// instructions commands over the real command router, on what the agent's memory tool wrote.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type CliCommand, parseCommandArgs } from '../../src/cli/command.js';
import { memoryCommand } from '../../src/cli/commands/memory.js';
import { type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness;
afterEach(async () => {
  await h?.close();
});

async function cli(cmd: CliCommand, argv: string[], confirm = false) {
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseCommandArgs(cmd, argv);
  const code = await cmd.run(
    { values: parsed.values, positionals: parsed.positionals, home: h.home },
    { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, interactive: false, confirm: async () => confirm },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

it('errand memory lists, shows, edits, deletes and clears what the agent remembered', async () => {
  h = await toolsHarness({ listen: true });
  const root = h.ctx.paths.memory;
  await h.run('memory', { command: 'create', path: '/memories/prefs.md', file_text: 'Reports as PDF.' });
  await h.run('memory', { command: 'create', path: '/memories/people/ana.md', file_text: 'Ana: finance' });

  const list = await cli(memoryCommand, []);
  expect(list.code).toBe(0);
  expect(list.out).toContain('/memories/people/ana.md  (12 bytes');
  expect(list.out).toContain('/memories/prefs.md  (15 bytes');
  const json = JSON.parse((await cli(memoryCommand, ['list', '--json'])).out);
  expect(json.enabled).toBe(true);
  expect(json.entries.map((e: { path: string }) => e.path)).toEqual(['/memories/people/ana.md', '/memories/prefs.md']);

  const show = await cli(memoryCommand, ['show', 'prefs.md']);
  expect(show).toMatchObject({ code: 0, out: 'Reports as PDF.' });

  const edit = await cli(memoryCommand, ['edit', '/memories/prefs.md', '--text', 'Reports as Markdown.']);
  expect(edit.code).toBe(0);
  expect(edit.out).toContain('Saved /memories/prefs.md (20 bytes)');
  expect(fs.readFileSync(path.join(root, 'prefs.md'), 'utf8')).toBe('Reports as Markdown.');

  const escaped = await cli(memoryCommand, ['edit', '/memories/../config.json', '--text', '{}']);
  expect(escaped.code).toBe(1);
  expect(escaped.err).toContain('errand memory:');
  expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8'))).not.toEqual({});

  const rm = await cli(memoryCommand, ['rm', 'people/ana.md']);
  expect(rm.code).toBe(0);
  expect(fs.existsSync(path.join(root, 'people', 'ana.md'))).toBe(false);
  const missing = await cli(memoryCommand, ['show', 'people/ana.md']);
  expect(missing.code).toBe(1);
  expect(missing.err).toContain('does not exist');

  // clear asks first; not confirmed, nothing goes.
  const refused = await cli(memoryCommand, ['clear']);
  expect(refused.code).toBe(1);
  expect(fs.existsSync(path.join(root, 'prefs.md'))).toBe(true);
  const cleared = await cli(memoryCommand, ['clear', '--yes']);
  expect(cleared).toMatchObject({ code: 0, out: 'Deleted 1 memory file.' });
  expect(fs.readdirSync(root)).toEqual([]);
  expect((await cli(memoryCommand, [])).out).toBe('The agent remembers nothing yet.');
  // Each change made here is in the audit log, saying who made it.
  const byPerson = auditLines().filter((e) => e.approvedBy === 'errand CLI on this computer');
  expect(byPerson.map((e) => `${e.tool} ${e.outcome}`)).toEqual([
    'memory.put wrote 20 bytes',
    'memory.delete deleted',
    'memory.clear removed 1 file(s)',
  ]);
});

it('errand memory shows what the model wrote with its escapes and direction marks visible, never acted on', async () => {
  h = await toolsHarness({ listen: true });
  // A title change and a screen clear, as a model could write, in a file whose name reads backwards
  // (U+202E: the memory tool refuses such a name now, but one can be there from before).
  const text = 'Line one\n\u001b]0;pwned\u0007\u001b[2Jsecond';
  fs.mkdirSync(h.ctx.paths.memory, { recursive: true });
  fs.writeFileSync(path.join(h.ctx.paths.memory, '\u202etxt.sh'), text);
  const list = await cli(memoryCommand, []);
  expect(list.out).toContain('/memories/\\u{202e}txt.sh  (');
  const shown = await cli(memoryCommand, ['show', '/memories/\u202etxt.sh']);
  expect(shown.code).toBe(0);
  expect(shown.out).toBe('Line one\n\\x1b]0;pwned\\x07\\x1b[2Jsecond');
  expect(shown.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
  // --json keeps the exact text (JSON escapes it).
  expect(JSON.parse((await cli(memoryCommand, ['show', '/memories/\u202etxt.sh', '--json'])).out).text).toBe(text);
});

/** The audit log's entries (one JSON object per line). */
function auditLines(): Array<{ tool: string; outcome: string; approvedBy?: string; args: unknown }> {
  return fs
    .readFileSync(h.ctx.paths.audit, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

it('the phone reads, edits, deletes and clears memory, and keeps the personal instructions', async () => {
  h = await toolsHarness();
  const root = h.ctx.paths.memory;
  await h.run('memory', { command: 'create', path: '/memories/prefs.md', file_text: 'Tone: short' });

  const list = await h.send('memory.list', {});
  expect(list.enabled).toBe(true);
  const byTask = { kind: 'task', threadId: expect.any(String) };
  expect(list.entries).toEqual([
    { path: '/memories/prefs.md', bytes: 11, modifiedAt: expect.any(Number), writtenBy: byTask },
  ]);
  expect(await h.send('memory.get', { path: '/memories/prefs.md' })).toEqual({
    path: '/memories/prefs.md',
    text: 'Tone: short',
    writtenBy: byTask,
  });
  const put = await h.send('memory.put', { path: '/memories/prefs.md', text: 'Tone: warm' });
  expect(put.entry).toMatchObject({ path: '/memories/prefs.md', bytes: 10 });
  expect(fs.readFileSync(path.join(root, 'prefs.md'), 'utf8')).toBe('Tone: warm');
  // The agent reads the edit.
  const viewed = await h.run('memory', { command: 'view', path: '/memories/prefs.md' });
  expect(JSON.stringify(viewed.content)).toContain('Tone: warm');

  await expect(h.send('memory.put', { path: '/memories/../config.json', text: '{}' })).rejects.toMatchObject({
    code: 'bad_request',
  });
  await expect(h.send('memory.get', { path: '/memories/nope.md' })).rejects.toMatchObject({ code: 'not_found' });

  await h.send('memory.put', { path: '/memories/b.md', text: 'b' });
  await h.send('memory.delete', { path: '/memories/b.md' });
  expect(fs.existsSync(path.join(root, 'b.md'))).toBe(false);
  expect(await h.send('memory.clear', {})).toEqual({ removed: 1 });
  expect((await h.send('memory.list', {})).entries).toEqual([]);

  expect(await h.send('instructions.get', {})).toEqual({ text: '' });
  await h.send('instructions.put', { text: 'Answer in Portuguese.' });
  expect(fs.readFileSync(h.ctx.paths.instructions, 'utf8')).toBe('Answer in Portuguese.');
  expect(await h.send('instructions.get', {})).toEqual({ text: 'Answer in Portuguese.' });
  // The phone's changes are audited with the device that made them.
  const fromPhone = auditLines().filter((e) => e.approvedBy === 'Phone (dev_phone)');
  expect(fromPhone.map((e) => e.tool)).toEqual([
    'memory.put',
    'memory.put',
    'memory.delete',
    'memory.clear',
    'instructions.put',
  ]);
  expect(JSON.stringify(fromPhone)).not.toContain('Portuguese'); // sizes, not the text
});
