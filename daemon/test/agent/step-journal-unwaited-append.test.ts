// The step journal with a record not waited for (a reply's record before a read-only call): the
// records handed on keep their order, and the run's end drops the file only after they are written,
// so no leftover file of a finished run remains.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { StepJournal } from '../../src/agent/step-journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

it('keeps the order of records not waited for, and the run end waits for them before dropping the file', async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-steps-unwaited-')), 'agent-steps');
  dirs.push(path.dirname(dir));
  const steps = new StepJournal(dir);

  const cost = { usage: { inputTokens: 10, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0.5 };
  const noted = steps.append('task-1', { attempt: 'a1', turn: 0, cost });
  const started = steps.append('task-1', { attempt: 'a1', turn: 0, started: 'toolu_2' });
  await Promise.all([noted, started]);
  expect(await steps.read('task-1')).toEqual([
    { attempt: 'a1', turn: 0, cost },
    { attempt: 'a1', turn: 0, started: 'toolu_2' },
  ]);
  await steps.remove('task-1');

  // A run that ends while its reply's record is still being written.
  const pending = steps.append('task-2', { attempt: 'a1', turn: 0, cost });
  await steps.remove('task-2');
  await pending;
  expect(fs.readdirSync(dir)).toEqual([]);
  steps.close();
});
