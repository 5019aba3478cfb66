// An approval of a shell command covers the files its arguments name in the allowed folders only as
// they were shown: the model rewrote run.sh (fs_write, no approval needed) after the user allowed
// `bash run.sh` for the task, and the new script ran under that grant, with the sandbox on or off.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { argumentFiles, recheckArgumentFiles } from '../../src/tools/argument-files.js';
import { nextApprovalOrEnd } from '../helpers/approval-waits.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
const temps: string[] = [];
afterEach(async () => {
  await td?.stop();
  await model?.close();
  td = model = undefined;
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

const tempDir = (name: string) => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), name)));
  temps.push(d);
  return d;
};
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

describe.each(['auto', 'off'] as const)('sandbox %s', (sandbox) => {
  it('"allow for this task" on bash run.sh does not cover run.sh once the model rewrote it; unchanged, it does', async () => {
    const root = tempDir('errand-arg-files-');
    const script = path.join(root, 'run.sh');
    const harmless = 'echo harmless\n';
    fs.writeFileSync(script, harmless);
    const marker = path.join(root, 'pwned.txt');
    const evil = `echo EVIL > ${marker}\n`;
    model = await startModelServer();
    td = await startTestDaemon({
      config: {
        shell: { sandbox },
        roots: [root],
        anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
      },
    });
    const phone = await td.connect();
    model.push(
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: root })),
      // Unchanged: the grant covers it (the same folder written otherwise: the runaway watch would
      // ask about a third identical call).
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: `${root}/.` })),
      reply(toolUse('fs_write', { path: script, content: evil, overwrite: true })),
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: root })),
      reply(text('done')),
    );
    const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'run the script' });
    const taskId = created.task.id;
    const seen = new Set<string>();

    const first = await nextApprovalOrEnd(phone, taskId, seen);
    expect(first?.action).toMatchObject({
      argv: ['bash', 'run.sh'],
      files: { [script]: `sha256:${sha256(harmless)}` },
    });
    await phone.send({ type: 'approval.decide', approvalId: first!.id, hash: first!.hash, decision: 'allow_task' });

    // The rewritten script is a new action: asked again, showing the new content's hash.
    const second = await nextApprovalOrEnd(phone, taskId, seen);
    expect(second, 'the rewritten script ran under the grant given for the one shown').toBeDefined();
    expect(second!.action).toMatchObject({ argv: ['bash', 'run.sh'], files: { [script]: `sha256:${sha256(evil)}` } });
    await phone.send({ type: 'approval.decide', approvalId: second!.id, hash: second!.hash, decision: 'deny' });

    expect(await nextApprovalOrEnd(phone, taskId, seen)).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(false);
    // The first two calls ran the script shown (one approval for both).
    const outputs = model.requests.slice(1, 3).map((r) => JSON.stringify(r.body.messages.at(-1).content));
    expect(outputs.every((o) => o.includes('harmless'))).toBe(true);
  });
});

describe.each(['auto', 'off'] as const)('sandbox %s', (sandbox) => {
  it('a grant lapses once a file tool changed a file: run.sh sourcing a rewritten lib.sh is asked about again', async () => {
    const root = tempDir('errand-grant-lapse-');
    fs.writeFileSync(path.join(root, 'run.sh'), '. ./lib.sh\n');
    fs.writeFileSync(path.join(root, 'lib.sh'), 'echo harmless\n');
    const marker = path.join(root, 'pwned.txt');
    model = await startModelServer();
    td = await startTestDaemon({
      config: {
        shell: { sandbox },
        roots: [root],
        anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
      },
    });
    const phone = await td.connect();
    model.push(
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: root })),
      // lib.sh is named by no argument: only the lapse stops the grant covering it.
      reply(
        toolUse('fs_write', { path: path.join(root, 'lib.sh'), content: `echo EVIL > ${marker}\n`, overwrite: true }),
      ),
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: root })),
      reply(text('done')),
    );
    const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'run the script' });
    const seen = new Set<string>();
    const first = await nextApprovalOrEnd(phone, created.task.id, seen);
    await phone.send({ type: 'approval.decide', approvalId: first!.id, hash: first!.hash, decision: 'allow_task' });
    const second = await nextApprovalOrEnd(phone, created.task.id, seen);
    expect(second, 'the rewritten lib.sh ran under the grant given before it changed').toBeDefined();
    expect(second!.action).toMatchObject({ argv: ['bash', 'run.sh'] });
    await phone.send({ type: 'approval.decide', approvalId: second!.id, hash: second!.hash, decision: 'deny' });
    expect(await nextApprovalOrEnd(phone, created.task.id, seen)).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a grant lapses once a command approved once changed a file; the granted command writing its own files keeps it', async () => {
    const root = tempDir('errand-grant-lapse-shell-');
    fs.writeFileSync(path.join(root, 'run.sh'), '. ./lib.sh\ndate > stamp.txt\n');
    fs.writeFileSync(path.join(root, 'lib.sh'), 'echo harmless\n');
    const marker = path.join(root, 'pwned.txt');
    model = await startModelServer();
    td = await startTestDaemon({
      config: {
        shell: { sandbox },
        roots: [root],
        anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
      },
    });
    const phone = await td.connect();
    model.push(
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: root })),
      // The granted command again: it wrote stamp.txt itself, which does not end its own grant.
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: root })),
      // A one-off "update the lib" step, approved once: what it changed ends the grant.
      reply(toolUse('shell', { argv: ['sh', '-c', `printf 'echo EVIL > pwned.txt\\n' > lib.sh`], cwd: root })),
      reply(toolUse('shell', { argv: ['bash', 'run.sh'], cwd: root })),
      reply(text('done')),
    );
    const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'run the script' });
    const seen = new Set<string>();
    const first = await nextApprovalOrEnd(phone, created.task.id, seen);
    expect(first!.action).toMatchObject({ argv: ['bash', 'run.sh'] });
    await phone.send({ type: 'approval.decide', approvalId: first!.id, hash: first!.hash, decision: 'allow_task' });
    const update = await nextApprovalOrEnd(phone, created.task.id, seen);
    expect(update!.action, 'the second run of the granted command was asked about').toMatchObject({
      argv: ['sh', '-c', expect.stringContaining('lib.sh')],
    });
    await phone.send({ type: 'approval.decide', approvalId: update!.id, hash: update!.hash, decision: 'approve' });
    let again = await nextApprovalOrEnd(phone, created.task.id, seen);
    if (again?.action.kind === 'same_call') {
      // The third run of one command asks whether the task may go on: it may.
      await phone.send({ type: 'approval.decide', approvalId: again.id, hash: again.hash, decision: 'approve' });
      again = await nextApprovalOrEnd(phone, created.task.id, seen);
    }
    expect(again, 'the rewritten lib.sh ran under the grant given before it changed').toBeDefined();
    expect(again!.action).toMatchObject({ argv: ['bash', 'run.sh'] });
    await phone.send({ type: 'approval.decide', approvalId: again!.id, hash: again!.hash, decision: 'deny' });
    expect(await nextApprovalOrEnd(phone, created.task.id, seen)).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readFileSync(path.join(root, 'lib.sh'), 'utf8')).toBe('echo EVIL > pwned.txt\n');
  });
});

it('a file changed between the check and the start stops the command unrun, saying which', async () => {
  const root = tempDir('errand-arg-recheck-');
  const outside = tempDir('errand-arg-outside-');
  fs.writeFileSync(path.join(root, 'job.py'), 'print(1)\n');
  fs.writeFileSync(path.join(outside, 'data.csv'), 'a,b\n');
  fs.symlinkSync(path.join(root, 'job.py'), path.join(root, 'link.py'));
  fs.mkdirSync(path.join(root, 'folder'));
  const inside = (p: string) => p === root || p.startsWith(`${root}/`);
  const argv = ['python3', 'link.py', `--input=${path.join(outside, 'data.csv')}`, 'folder', 'not-there', '-v'];
  const shown = await argumentFiles(argv, root, inside);
  // Only the file inside the allowed folders, by its real path (the link followed); no folder, no word.
  expect(shown).toEqual([{ path: path.join(root, 'job.py'), identity: `sha256:${sha256('print(1)\n')}` }]);
  await recheckArgumentFiles(shown, argv, root, inside);
  fs.writeFileSync(path.join(root, 'job.py'), 'print(2)\n');
  await expect(recheckArgumentFiles(shown, argv, root, inside)).rejects.toThrow(
    `${path.join(root, 'job.py')} changed since this command was checked`,
  );
  // A file appearing under a name that was a plain word changes what the command reads too.
  fs.writeFileSync(path.join(root, 'job.py'), 'print(1)\n');
  fs.writeFileSync(path.join(root, 'not-there'), 'new\n');
  await expect(recheckArgumentFiles(shown, argv, root, inside)).rejects.toThrow(/nothing was run/);
});

it('the words of a script given as one argument count too, and many files are bound without refusing the command', async () => {
  const root = tempDir('errand-arg-words-');
  fs.writeFileSync(path.join(root, 'run.sh'), 'echo one\n');
  fs.writeFileSync(path.join(root, 'job.py'), 'print(1)\n');
  const inside = (p: string) => p === root || p.startsWith(`${root}/`);
  const viaShell = await argumentFiles(['sh', '-c', 'bash run.sh && echo done'], root, inside);
  expect(viaShell.map((f) => f.path)).toEqual([path.join(root, 'run.sh')]);
  const viaPython = await argumentFiles(['python3', '-c', "exec(open('job.py').read())"], root, inside);
  expect(viaPython.map((f) => f.path)).toEqual([path.join(root, 'job.py')]);

  const names = Array.from({ length: 40 }, (_, i) => `f${i}.txt`);
  for (const n of names) fs.writeFileSync(path.join(root, n), n);
  const many = await argumentFiles(['git', 'add', ...names], root, inside);
  expect(many).toHaveLength(40);
  expect(many.every((f) => f.identity.startsWith('sha256:'))).toBe(true);
});
