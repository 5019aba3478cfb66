// The step journal's files: made by a run's first record, dropped when the run ends, and a file an
// earlier process left (a crash) is dropped too when that task runs again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { StepJournal } from '../../src/agent/step-journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

it('makes a file with the first record, drops it when the run ends, and drops a leftover of an earlier process', async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-steps-')), 'agent-steps');
  dirs.push(path.dirname(dir));
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'task-old.jsonl'), '{"attempt":"a0","turn":0}\n'); // left by a crash

  const steps = new StepJournal(dir);
  await steps.remove('task-none'); // a run without tool calls: nothing to drop
  await steps.append('task-1', { attempt: 'a1', turn: 0, started: 'toolu_1' });
  expect(await steps.read('task-1')).toEqual([{ attempt: 'a1', turn: 0, started: 'toolu_1' }]);
  await steps.remove('task-1');
  expect(fs.existsSync(path.join(dir, 'task-1.jsonl'))).toBe(false);
  expect(await steps.read('task-old')).toHaveLength(1);
  await steps.remove('task-old');
  expect(fs.readdirSync(dir)).toEqual([]);

  // A task that runs again after its file was dropped makes a new one.
  await steps.append('task-1', { attempt: 'a2', turn: 1 });
  expect(fs.readdirSync(dir)).toEqual(['task-1.jsonl']);
  steps.close();
});
