// End to end: the real agent loop, driven by a scripted model over the Messages API, with the real
// tools runtime. The model's tool calls try to escape the roots and are refused with clear tool
// errors; a shell call waits for an approval (task state waiting) and runs once approved.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ToolRuntime } from '../../src/agent/tool-runtime.js';
import { startTools, type ToolsModule } from '../../src/tools/index.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let h: Harness | undefined;
let server: ModelServer | undefined;
let tools: ToolsModule | undefined;
afterEach(async () => {
  await tools?.stop();
  await h?.cleanup();
  await server?.close();
  tools = undefined;
  h = undefined;
});

describe('scripted model against the real tools', () => {
  it('refuses every escape with a tool error the model reads, and runs an approved command', async () => {
    server = await startModelServer();
    let real: ToolsModule | undefined;
    const lazy: ToolRuntime = {
      definitions: () => real!.definitions(),
      summarize: (n, i) => real!.summarize(n, i),
      run: (c, ctx) => real!.run(c, ctx),
      promptContext: () => real!.promptContext(),
    };
    h = await startHarness({
      modelUrl: server.url,
      config: { shell: { sandbox: 'off' } },
      tools: { runtime: lazy, dir: '', runs: new Map(), slowStarted: async () => undefined, slowAborted: [] },
      pendingApprovals: (threadId) => real?.pendingApprovals(threadId) ?? [],
    });
    real = tools = await startTools(h.ctx);

    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const outside = fs.mkdtempSync('/tmp/errand-e2e-outside-');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET');
    fs.symlinkSync(outside, path.join(ws, 'escape'));
    fs.writeFileSync(path.join(ws, 'notes.txt'), 'fine');

    server.push(
      reply(
        text('Let me look around.'),
        toolUse('fs_read', { path: '../../../etc/passwd' }),
        toolUse('fs_read', { path: path.join(outside, 'secret.txt') }),
        toolUse('fs_read', { path: 'escape/secret.txt' }),
        toolUse('fs_write', { path: 'escape/planted.txt', content: 'gotcha' }),
        toolUse('fs_read', { path: h.ctx.paths.config }),
        toolUse('shell', { argv: ['cat', 'secret.txt'], cwd: outside }),
        toolUse('fs_read', { path: 'notes.txt' }),
      ),
      reply(toolUse('shell', { argv: ['bash', '-c', 'echo approved > ran.txt'] })),
      reply(text('Could not reach the other files; ran the command.')),
    );
    const { thread, task } = await h.send('thread.create', { text: 'snoop around' });

    const approval = await h.waitEvent('approval.requested');
    expect(approval.approval.action).toMatchObject({
      tool: 'shell',
      argv: ['bash', '-c', 'echo approved > ran.txt'],
      cwd: ws,
    });
    await h.waitTask(task.id, ['waiting']);
    const got = await h.send('thread.get', { threadId: thread.id });
    expect(got.approvals.map((a: { id: string }) => a.id)).toEqual([approval.approval.id]);
    await h.send('approval.decide', {
      approvalId: approval.approval.id,
      hash: approval.approval.hash,
      decision: 'approve',
    });
    await h.waitTask(task.id, ['done']);

    const results = server.requests[1].body.messages[2].content as Array<{
      type: string;
      is_error?: boolean;
      content: Array<{ type: string; text: string }>;
    }>;
    const texts = results.map((r) => r.content.map((c) => c.text).join('\n'));
    expect(results.map((r) => r.is_error ?? false)).toEqual([true, true, true, true, true, true, false]);
    expect(texts[0]).toMatch(/paths may not contain "\.\."/);
    expect(texts[1]).toMatch(/outside the folders you may use/);
    expect(texts[2]).toMatch(/outside the folders you may use \(it leads to .* through a symbolic link\)/);
    expect(texts[3]).toMatch(/outside the folders you may use/);
    expect(texts[4]).toMatch(/outside the folders you may use/);
    expect(texts[5]).toMatch(/outside the folders you may use/);
    expect(texts[6]).toContain('fine');
    for (const t of texts) expect(t).not.toContain('TOP SECRET');
    expect(fs.existsSync(path.join(outside, 'planted.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(ws, 'ran.txt'), 'utf8')).toBe('approved\n');

    const items = (await h.send('thread.get', { threadId: thread.id })).items.filter(
      (i: { kind: string }) => i.kind === 'tool',
    );
    expect(items.map((i: { state: string }) => i.state)).toEqual([
      'error',
      'error',
      'error',
      'error',
      'error',
      'error',
      'completed',
      'completed',
    ]);
    const audit = await tools.audit.forTask(task.id);
    expect(audit).toHaveLength(8);
    expect(audit.at(-1)).toMatchObject({ tool: 'shell', approvedBy: 'Test phone (dev_test)' });
    fs.rmSync(outside, { recursive: true, force: true });
  });
});
