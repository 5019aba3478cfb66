// A file in an allowed folder that holds a secret Errand knows (a project's .env with the API key,
// or a copy a task made) is shown to a phone redacted (task.file, task.diff) and not given out by a
// download; files without one are shown and given as they are.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { redactedHunks, secretGuard } from '../../src/tools/secret-views.js';
import { nextApprovalOrEnd } from '../helpers/approval-waits.js';
import type { TestDaemon } from '../helpers/daemon.js';
import { startDownload, throughGuard } from '../helpers/downloads.js';
import { type ModelServer, reply, text, toolUse } from '../helpers/model-server.js';
import { API_KEY, startWithSecrets } from '../helpers/secrets-daemon.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
let home: string | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  td = model = home = undefined;
});

const bodyOf = async (res: import('node:http').IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

it('task.file and task.diff show a known secret redacted; a download of the file is refused', async () => {
  const started = await startWithSecrets({ shell: { sandbox: 'off' } }, 'errand-file-secrets-');
  ({ model, td, home } = started);
  const { token } = await td.pairDevice('second phone');
  const phone = await td.connect({ token });
  const ws = fs.realpathSync(path.join(home, 'workspace'));
  fs.mkdirSync(ws, { recursive: true });
  // The person's own project file, and a file far past one read's chunk with the key at its end.
  fs.writeFileSync(path.join(ws, 'app.env'), `MODE=prod\nANTHROPIC_API_KEY=${API_KEY}\n`);
  fs.writeFileSync(path.join(ws, 'big.log'), `${'x'.repeat(3 * 1024 * 1024)}\nkey ${API_KEY}\n`);
  fs.writeFileSync(path.join(ws, 'table.csv'), `name,key\nmain,${API_KEY}\n`);
  model.push(
    reply(
      toolUse('shell', {
        argv: ['sh', '-c', 'cp app.env copy.env && cp big.log copy.log && echo ok > plain.txt'],
        cwd: ws,
      }),
    ),
    reply(text('Copied.')),
  );
  const made = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'copy the env file' });
  const ask = await nextApprovalOrEnd(phone, made.task.id, new Set());
  await phone.send({ type: 'approval.decide', approvalId: ask!.id, hash: ask!.hash, decision: 'approve' });
  await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 30_000);

  // Views: any file in the folders (the task's or not), text and table alike.
  const view = await phone.send<{ file: { kind: string; text: string } }>({
    type: 'task.file',
    taskId: made.task.id,
    path: path.join(ws, 'app.env'),
  });
  expect(view.file.text).toBe('MODE=prod\nANTHROPIC_API_KEY=[redacted]\n');
  const copy = await phone.send<{ file: { text: string } }>({
    type: 'task.file',
    taskId: made.task.id,
    path: path.join(ws, 'copy.env'),
  });
  expect(copy.file.text).not.toContain(API_KEY);
  const table = await phone.send<{ file: { sheets: Array<{ rows: string[][] }> } }>({
    type: 'task.file',
    taskId: made.task.id,
    path: path.join(ws, 'table.csv'),
  });
  expect(table.file.sheets[0].rows).toEqual([
    ['name', 'key'],
    ['main', '[redacted]'],
  ]);

  // The diff of the file the task made.
  const diff = await phone.send<{ diff: { kind: string; hunks: Array<{ lines: string[] }> } }>({
    type: 'task.diff',
    taskId: made.task.id,
    path: path.join(ws, 'copy.env'),
  });
  expect(diff.diff.kind).toBe('text');
  expect(diff.diff.hunks.flatMap((h) => h.lines)).toEqual(['+MODE=prod', '+ANTHROPIC_API_KEY=[redacted]']);

  // Downloads: refused with a sentence, for the small file and for the one whose key is megabytes in.
  for (const name of ['copy.env', 'copy.log']) {
    const dl = await startDownload(td.url, token, made.task.id, path.join(ws, name));
    const body = await bodyOf(dl.res);
    expect(dl.status, name).toBe(403);
    expect(JSON.parse(body)).toMatchObject({
      error: 'forbidden',
      message: expect.stringContaining('Open it on the computer'),
    });
    expect(body).not.toContain(API_KEY);
  }
  // A file without a secret downloads as it is.
  const plain = await startDownload(td.url, token, made.task.id, path.join(ws, 'plain.txt'));
  expect(plain.status).toBe(200);
  expect(await bodyOf(plain.res)).toBe('ok\n');
});

it("a key split over a diff's lines is found together, and those lines are not shown", () => {
  const secrets = { values: [API_KEY], tokenHashes: new Set<string>() };
  const half = API_KEY.length / 2;
  const hunks = [
    { oldStart: 1, newStart: 1, lines: ['+key part one:', `+${API_KEY.slice(0, half)}`, `+${API_KEY.slice(half)}`] },
  ];
  const shown = redactedHunks(hunks, secrets);
  expect(shown[0].lines.join('\n')).not.toContain(API_KEY.slice(0, half));
  // Hunks without one come back as they are.
  const clean = [{ oldStart: 1, newStart: 1, lines: ['+nothing here'] }];
  expect(redactedHunks(clean, secrets)).toEqual(clean);
});

it('a download too large to look at first is cut before the piece holding a secret leaves, even across pieces', async () => {
  const secrets = { values: [API_KEY], tokenHashes: new Set<string>() };
  const run = (chunks: Buffer[]) => throughGuard(secretGuard(secrets), chunks);
  const filler = Buffer.alloc(100_000, 'x');
  const half = API_KEY.length / 2;
  const cut = await run([
    filler,
    Buffer.from(`key ${API_KEY.slice(0, half)}`),
    Buffer.from(`${API_KEY.slice(half)} end`),
    filler,
  ]);
  expect(cut.error?.message).toMatch(/holds a secret/);
  expect(cut.sent).not.toContain(API_KEY.slice(0, 8));
  // Without one, every byte goes out as it was.
  const clean = await run([filler, Buffer.from('plain words'), filler]);
  expect(clean.error).toBeUndefined();
  expect(clean.sent).toBe(`${filler.toString('latin1')}plain words${filler.toString('latin1')}`);
});
