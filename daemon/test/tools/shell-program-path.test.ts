// What runs is what was shown: a shell command's program is the file argv[0] resolved to when the
// call was checked, not whatever the name finds later. With a PATH folder inside the allowed folders
// (~/bin with root ~), "allow for this task" on `cat notes.txt` must not cover a `cat` the model
// then plants in that folder; and a program inside the allowed folders is granted only for its
// exact content.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../../shared/src/index.js';
import { recheckProgram, resolveProgram } from '../../src/tools/resolve-program.js';
import { nextApprovalOrEnd } from '../helpers/approval-waits.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

const savedPath = process.env.PATH;
let model: ModelServer | undefined;
let td: TestDaemon | undefined;
let h: ToolsHarness | undefined;
afterEach(async () => {
  process.env.PATH = savedPath;
  await td?.stop();
  await model?.close();
  await h?.close();
  td = model = h = undefined;
});

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

describe.each(['auto', 'off'] as const)('sandbox %s', (sandbox) => {
  it('a cat planted in a PATH folder inside the allowed folders is not covered by the grant on cat', async () => {
    const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-path-plant-')));
    const root = path.join(base, 'project');
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(path.join(root, 'scripts'));
    fs.writeFileSync(path.join(root, 'notes.txt'), 'the notes\n');
    // An executable file the model can move (a git hook sample, a build script).
    fs.writeFileSync(path.join(root, 'scripts', 'build.sh'), '#!/bin/sh\necho build\n', { mode: 0o755 });
    const marker = path.join(root, 'planted-ran.txt');
    const planted = `#!/bin/sh\necho PLANTED > ${marker}\n`;
    // The daemon's PATH (what its commands run with) starts with that folder, as ~/bin often does.
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;

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
      reply(toolUse('shell', { argv: ['cat', 'notes.txt'], cwd: root })),
      reply(toolUse('fs_move', { from: path.join(root, 'scripts', 'build.sh'), to: path.join(bin, 'cat') })),
      reply(toolUse('fs_write', { path: path.join(bin, 'cat'), content: planted })),
      reply(toolUse('shell', { argv: ['cat', 'notes.txt'], cwd: root })),
      reply(text('done')),
    );
    const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'read my notes' });
    const taskId = created.task.id;
    const seen = new Set<string>();

    // The first cat is the system's: the approval names that file, and the user allows cat for the task.
    const first = await nextApprovalOrEnd(phone, taskId, seen);
    expect(first?.action).toMatchObject({ tool: 'shell', argv: ['cat', 'notes.txt'] });
    await phone.send({ type: 'approval.decide', approvalId: first!.id, hash: first!.hash, decision: 'allow_task' });

    // The same words now name the planted file: the grant does not cover it, the user is asked,
    // and the approval shows that file, its content hash, and says it is in the allowed folders.
    const second = await nextApprovalOrEnd(phone, taskId, seen);
    expect(second, 'the planted cat ran under the grant given for the system cat').toBeDefined();
    expect(second!.action).toMatchObject({
      tool: 'shell',
      argv: ['cat', 'notes.txt'],
      program: path.join(bin, 'cat'),
      programSha256: sha256(planted),
    });
    expect(second!.summary).toContain('allowed folders');
    const systemCat = String(first!.action.program);
    expect(path.isAbsolute(systemCat) && path.basename(systemCat) === 'cat').toBe(true);
    expect(systemCat.startsWith(`${root}${path.sep}`)).toBe(false);
    expect(first!.action.programSha256).toBeUndefined();
    await phone.send({ type: 'approval.decide', approvalId: second!.id, hash: second!.hash, decision: 'deny' });

    expect(await nextApprovalOrEnd(phone, taskId, seen)).toBeUndefined();
    const done = await phone.event(
      'task.updated',
      (e) => e.task.id === taskId && ['done', 'failed', 'cancelled', 'interrupted'].includes(e.task.state),
    );
    expect(done.task.state).toBe('done');
    expect(fs.existsSync(marker)).toBe(false);
    // The first call ran the file it showed and printed the notes.
    const results = JSON.stringify(model.requests[1].body.messages.at(-1).content);
    expect(results).toContain('the notes');
  });
});

/** Approve (or allow for the task) the next approval request of the harness, bounded. */
async function decideNext(decision: 'approve' | 'allow_task' | 'deny', done: Set<string>): Promise<Approval> {
  const e = await h!.waitEvent('approval.requested', (x) => !done.has(x.approval.id), 10_000);
  done.add(e.approval.id);
  await h!.send('approval.decide', { approvalId: e.approval.id, hash: e.approval.hash, decision });
  return e.approval;
}

describe('program resolution', () => {
  it('a program inside the allowed folders is granted for its exact content only', async () => {
    h = await toolsHarness();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const tool = path.join(ws, 'tool.sh');
    fs.writeFileSync(tool, `#!/bin/sh\necho one >> ${path.join(ws, 'ran.txt')}\n`, { mode: 0o755 });
    const task = h.task({ taskId: 'task_tool' });
    const decided = new Set<string>();
    const first = h.run('shell', { argv: ['./tool.sh'] }, task);
    const a = await decideNext('allow_task', decided);
    expect(a.action).toMatchObject({ program: tool, programSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await first).state).toBe('completed');
    // Unchanged: the grant covers it.
    expect((await h.run('shell', { argv: ['./tool.sh'] }, task)).state).toBe('completed');
    expect(fs.readFileSync(path.join(ws, 'ran.txt'), 'utf8')).toBe('one\none\n');
    // Rewritten: the same argv asks again, and denied, it does not run.
    fs.writeFileSync(tool, `#!/bin/sh\necho two >> ${path.join(ws, 'ran.txt')}\n`);
    const third = h.run('shell', { argv: ['./tool.sh'] }, task);
    const b = await decideNext('deny', decided);
    expect(b.action.programSha256).not.toBe(a.action.programSha256);
    expect((await third).state).toBe('denied');
    expect(fs.readFileSync(path.join(ws, 'ran.txt'), 'utf8')).toBe('one\none\n');
  });

  it("a script's interpreter inside the allowed folders is bound too: rewritten, the grant no longer covers it", async () => {
    h = await toolsHarness();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const interp = path.join(ws, 'interp');
    const ran = path.join(ws, 'ran.txt');
    fs.writeFileSync(
      interp,
      `#!/bin/sh
echo shown >> ${ran}
`,
      { mode: 0o755 },
    );
    // The script itself is outside the allowed folders (a venv's python named by a system script).
    const prog = path.join(h.home, '..', 'outside', 'prog');
    fs.writeFileSync(
      prog,
      `#!${interp}
`,
      { mode: 0o755 },
    );
    const task = h.task({ taskId: 'task_interp' });
    const decided = new Set<string>();
    const first = h.run('shell', { argv: [prog] }, task);
    const a = await decideNext('allow_task', decided);
    expect(a.action).toMatchObject({ interpreter: interp, programSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await first).state).toBe('completed');
    expect(fs.readFileSync(ran, 'utf8')).toBe('shown\n');
    // The model rewrites the interpreter (no approval needed inside the allowed folders).
    fs.writeFileSync(
      interp,
      `#!/bin/sh
echo ATTACKER >> ${ran}
`,
    );
    const again = h.run('shell', { argv: [prog] }, task);
    const b = await decideNext('deny', decided);
    expect(b.action.programSha256).not.toBe(a.action.programSha256);
    expect((await again).state).toBe('denied');
    expect(fs.readFileSync(ran, 'utf8')).toBe('shown\n');
  });

  it('a program on no PATH folder is a clear tool error, asked of nobody', async () => {
    h = await toolsHarness();
    const out = await h.run('shell', { argv: ['errand-no-such-program'] });
    expect(out.isError).toBe(true);
    expect(textOf(out)).toContain("No program named errand-no-such-program on this computer's PATH");
    expect(h.events.some((e) => e.kind === 'approval.requested')).toBe(false);
  });

  it('follows links, counts one inside the allowed folders as changeable, and re-checks the content before the run', async () => {
    const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-resolve-')));
    const root = path.join(base, 'root');
    const outside = path.join(base, 'outside');
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'tool'), '#!/bin/sh\necho outside\n', { mode: 0o755 });
    fs.symlinkSync(path.join(outside, 'tool'), path.join(root, 'bin', 'tool'));
    const inside = (p: string) => p === root || p.startsWith(`${root}/`);
    // The PATH entry outside comes second: the link in the root is found first, and it can be re-pointed.
    const found = await resolveProgram('tool', {
      pathVar: `${path.join(root, 'bin')}:${outside}`,
      cwd: root,
      inside,
    });
    expect(found).toMatchObject({
      path: path.join(root, 'bin', 'tool'),
      real: path.join(outside, 'tool'),
      writable: true,
    });
    await recheckProgram(found, { cwd: root, inside });
    // Re-pointed at another file: the re-check refuses to run it.
    fs.writeFileSync(path.join(root, 'other'), '#!/bin/sh\necho other\n', { mode: 0o755 });
    fs.rmSync(path.join(root, 'bin', 'tool'));
    fs.symlinkSync(path.join(root, 'other'), path.join(root, 'bin', 'tool'));
    await expect(recheckProgram(found, { cwd: root, inside })).rejects.toThrow(/changed since .* nothing was run/);
    // Outside the roots it is not changeable by the agent, and no content hash is needed.
    const system = await resolveProgram('tool', { pathVar: outside, cwd: root, inside });
    expect(system).toEqual({ path: path.join(outside, 'tool'), real: path.join(outside, 'tool'), writable: false });
  });
});
