// A shell call is recorded as started (TaskToolContext.willRun, durable in the agent's journal)
// only once its setup is done: the sandbox set up and its folder kept for undo, which can take a
// while. A daemon killed during that setup then leaves the command unrun (run again on resume),
// not "outcome unknown". And when the loop will not let it act, the command does not run.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
let approving: ReturnType<typeof setInterval> | undefined;
afterEach(async () => {
  clearInterval(approving);
  await h?.close();
  h = undefined;
});

/** Without a sandbox every shell call asks: approve each, as a phone would. */
async function harness(): Promise<ToolsHarness> {
  const made = await toolsHarness({ config });
  const decided = new Set<string>();
  approving = setInterval(() => {
    for (const e of made.events) {
      if (e.kind !== 'approval.requested' || decided.has(e.approval.id)) continue;
      decided.add(e.approval.id);
      void made
        .send('approval.decide', { approvalId: e.approval.id, hash: e.approval.hash, decision: 'approve' })
        .catch(() => undefined);
    }
  }, 10);
  return made;
}

const config = {
  shell: { sandbox: 'off' },
  policy: { rules: [{ tool: 'shell', match: 'bash', decision: 'allow' }] },
};

/** The undo copies of shell runs kept so far (one file per run, written before the command starts). */
function keptRuns(journalDir: string): string[] {
  const dir = path.join(journalDir, '.shell-runs');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('run_')) : [];
}

describe('shell: started only when it acts', () => {
  it('is marked started after its folder was kept for undo, right before the command runs', async () => {
    h = await harness();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    fs.writeFileSync(path.join(ws, 'kept.txt'), 'before');
    const seen: Array<{ kept: number; ran: boolean }> = [];
    const task = h.task();
    const out = await h.run(
      'shell',
      { argv: ['bash', '-c', 'echo ran > ran.txt'] },
      {
        ...task,
        willRun: async () => {
          seen.push({ kept: keptRuns(h!.ctx.paths.journal).length, ran: fs.existsSync(path.join(ws, 'ran.txt')) });
        },
      },
    );
    expect(out.isError, textOf(out)).toBe(false);
    expect(seen).toEqual([{ kept: 1, ran: false }]);
    expect(fs.readFileSync(path.join(ws, 'ran.txt'), 'utf8')).toBe('ran\n');
  });

  it('does not run the command when the loop no longer lets it act', async () => {
    h = await harness();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const out = await h.run(
      'shell',
      { argv: ['bash', '-c', 'echo ran > ran.txt'] },
      {
        ...h.task(),
        willRun: async () => {
          throw new Error('the task stopped before it could run');
        },
      },
    );
    expect(out.isError).toBe(true);
    expect(textOf(out)).toContain('was not run: the task stopped before it could run');
    expect(fs.existsSync(path.join(ws, 'ran.txt'))).toBe(false);
  });
});
