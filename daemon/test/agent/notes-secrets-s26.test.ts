// Memory, the personal instructions, CLAUDE.md/AGENTS.md and schedules never carry a secret Errand
// knows (the API key, a connector's secret) to a phone, the model or the store. A phone's note,
// instructions or schedule holding one is refused (bad_request, saying what to do), and so is the
// model's memory change or schedule; notes and instructions written beside Errand are shown and
// given to the model redacted; an instruction file with other hard links is skipped, saying so.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, text, toolUse } from '../helpers/model-server.js';
import { API_KEY, CONNECTOR_SECRET, runToDone, startWithSecrets } from '../helpers/secrets-daemon.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
let home: string | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  td = model = home = undefined;
});

/** Pieces of the secrets: none may reach a phone or the model, whole or in part. */
const FRAGMENTS = ['sk-ant-api', 'SECRETSECRET', 'mail-token', '7f3a9c2e4b1d'];
const noFragments = (what: string, sent: string) => {
  for (const f of FRAGMENTS) expect(sent, `${what} holds "${f}"`).not.toContain(f);
};

/** Every file under `dir` whose bytes hold `needle` (the store's journal, memory, instructions...). */
const filesHolding = (dir: string, needle: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesHolding(p, needle);
    if (!e.isFile()) return [];
    return fs.readFileSync(p).includes(needle) ? [p] : [];
  });

async function start() {
  const s = await startWithSecrets({}, 'errand-notes-secrets-');
  ({ model, td, home } = s);
  return s;
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: 'ok', message: '' }),
    (err: Error & { code?: string }) => ({ code: err.code, message: err.message }),
  );

/** The texts of the tool results the model got back in its last request. */
function toolResults(m: ModelServer): string[] {
  const last = m.requests.at(-1)!.body.messages.at(-1);
  return (last.content as Array<{ type: string; content?: Array<{ text?: string }> | string; is_error?: boolean }>)
    .filter((b) => b.type === 'tool_result')
    .map((b) => (typeof b.content === 'string' ? b.content : (b.content ?? []).map((c) => c.text ?? '').join('')));
}

it('a phone cannot save a note, a note name, instructions or a schedule holding a known secret; nothing of it is stored', async () => {
  const { phone, opts } = await start();
  for (const [cmd, what] of [
    [{ type: 'memory.put', path: '/memories/k.md', text: `key ${API_KEY}` }, 'Note'],
    [{ type: 'memory.put', path: `/memories/${API_KEY}.md`, text: 'x' }, 'Note'],
    [{ type: 'memory.put', path: '/memories/m.md', text: `mail ${CONNECTOR_SECRET}` }, 'Note'],
    [{ type: 'instructions.put', text: `Use key ${API_KEY} for the API.` }, 'Instructions'],
  ] as const) {
    const r = await refusal(phone.send(cmd));
    expect(r.code, JSON.stringify(cmd).slice(0, 60)).toBe('bad_request');
    expect(r.message).toBe(
      `${what} not saved: it holds a secret Errand knows (an API key, signing key or token). Remove the key; Errand never stores its own secrets in notes.`,
    );
  }
  const when = { kind: 'daily', time: '08:00' } as const;
  const made = await refusal(phone.send({ type: 'schedule.create', text: `print ${API_KEY}`, when }));
  expect(made.code).toBe('bad_request');
  expect(made.message).toContain('Remove the key');
  const ok = await phone.send<{ schedule: { id: string } }>({
    type: 'schedule.create',
    text: 'water the plants',
    when,
  });
  const renamed = await refusal(
    phone.send({ type: 'schedule.update', scheduleId: ok.schedule.id, title: `k ${CONNECTOR_SECRET}` }),
  );
  expect(renamed.code).toBe('bad_request');

  // Nothing was written: no note, no instructions, and the key is in no file of the home but config.json.
  const memory = path.join(opts.home, 'memory');
  expect(fs.existsSync(memory) ? fs.readdirSync(memory) : []).toEqual([]);
  expect(fs.existsSync(path.join(opts.home, 'instructions.md'))).toBe(false);
  expect(filesHolding(opts.home, API_KEY).map((f) => path.relative(opts.home, f))).toEqual(['config.json']);
  expect(filesHolding(opts.home, CONNECTOR_SECRET).map((f) => path.relative(opts.home, f))).toEqual(['secrets.json']);
  // The clean note and schedule are saved as before.
  await phone.send({ type: 'memory.put', path: '/memories/ok.md', text: 'prefers tea' });
  expect(fs.readFileSync(path.join(memory, 'ok.md'), 'utf8')).toBe('prefers tea');
  noFragments('phone frames', JSON.stringify(phone.frames));
});

it('the model cannot put a known secret into memory (text, name, edit) or a schedule; a note holding one is not searched', async () => {
  const { phone, opts } = await start();
  const memory = path.join(opts.home, 'memory');
  // A note written beside Errand that already holds the key.
  fs.mkdirSync(memory, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(memory, 'old.md'), `the key: ${API_KEY}\n`);
  fs.writeFileSync(path.join(memory, 'clean.md'), 'tea\n');
  model!.push(
    reply(
      toolUse('memory', { command: 'create', path: '/memories/prefs.md', file_text: `key is ${API_KEY}` }, 'tu_1'),
      toolUse('memory', { command: 'create', path: `/memories/${CONNECTOR_SECRET}.md`, file_text: 'x' }, 'tu_2'),
      toolUse('memory', { command: 'str_replace', path: '/memories/old.md', old_str: 'key: sk', new_str: 'y' }, 'tu_3'),
      toolUse(
        'memory',
        { command: 'str_replace', path: '/memories/clean.md', old_str: 'tea', new_str: `tea ${API_KEY}` },
        'tu_4',
      ),
      toolUse(
        'memory',
        { command: 'rename', old_path: '/memories/clean.md', new_path: `/memories/${API_KEY}` },
        'tu_5',
      ),
      toolUse('memory', { command: 'insert', path: '/memories/old.md', insert_line: 0, insert_text: 'hi' }, 'tu_6'),
      toolUse(
        'schedule_create',
        { title: 'print the key', task: `print ${API_KEY}`, when: { kind: 'daily', time: '08:00' } },
        'tu_7',
      ),
    ),
    reply(text('done')),
  );
  // Ends without any approval asked: each call is refused before its card.
  await runToDone(phone, { type: 'thread.create', text: 'remember my prefs' });
  const results = toolResults(model!);
  expect(results).toHaveLength(7);
  for (const r of results.slice(0, 2)) expect(r).toContain('Errand never stores its own secrets in memory');
  for (const r of [results[2], results[5]]) expect(r).toContain('neither searches nor changes it');
  expect(results[3]).toContain('write the note without it');
  expect(results[4]).toContain('name the note without it');
  expect(results[6]).toContain('No schedule was created: its title or task holds a secret Errand knows');

  expect(fs.readdirSync(memory).sort()).toEqual(['clean.md', 'old.md']);
  expect(fs.readFileSync(path.join(memory, 'clean.md'), 'utf8')).toBe('tea\n');
  expect(fs.readFileSync(path.join(memory, 'old.md'), 'utf8')).toBe(`the key: ${API_KEY}\n`);
  expect((await phone.send<{ schedules: unknown[] }>({ type: 'schedules.list' })).schedules).toEqual([]);
  expect(phone.events().some((f) => f.event.kind === 'approval.requested')).toBe(false);
  noFragments('phone frames', JSON.stringify(phone.frames));
});

it('notes and instructions written beside Errand reach phones and the model redacted; a hard-linked CLAUDE.md is skipped, saying so', async () => {
  const { phone, opts } = await start();
  const other = await td!.connect();
  const memory = path.join(opts.home, 'memory');
  fs.mkdirSync(memory, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(memory, `${API_KEY}.md`), 'a name');
  fs.writeFileSync(path.join(memory, 'k.md'), `key ${API_KEY} and ${CONNECTOR_SECRET}`);
  fs.writeFileSync(path.join(opts.home, 'instructions.md'), `Use key ${API_KEY} for the API.`);
  const ws = path.join(opts.home, 'workspace');
  fs.writeFileSync(path.join(ws, 'CLAUDE.md'), `# Project\nThe API key is ${API_KEY}\n`);
  // AGENTS.md is another name of Errand's own config.json (which holds the key).
  fs.linkSync(path.join(opts.home, 'config.json'), path.join(ws, 'AGENTS.md'));

  const list = await other.send<{ entries: Array<{ path: string }> }>({ type: 'memory.list' });
  expect(list.entries.map((e) => e.path).sort()).toEqual(['/memories/[redacted].md', '/memories/k.md']);
  expect(await other.send({ type: 'memory.get', path: '/memories/k.md' })).toEqual({
    path: '/memories/k.md',
    text: 'key [redacted] and [redacted]',
    writtenBy: { kind: 'unknown' },
  });
  expect(await other.send({ type: 'instructions.get' })).toEqual({ text: 'Use key [redacted] for the API.' });
  noFragments('other phone frames', JSON.stringify(other.frames));

  model!.push(reply(text('ok')));
  await runToDone(phone, { type: 'thread.create', text: 'hello' });
  const system = JSON.stringify(model!.requests.at(-1)!.body.system);
  noFragments('system prompt', system);
  expect(system).toContain('Use key [redacted] for the API.');
  expect(system).toContain('The API key is [redacted]');
  expect(system).toContain(
    `${path.join(ws, 'AGENTS.md')} was not read: it has 2 hard links, and another link may be outside the allowed folders.`,
  );
  expect(system).not.toContain('"anthropic"');
  fs.rmSync(path.join(ws, 'AGENTS.md'));
});
