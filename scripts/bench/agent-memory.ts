// Resident memory of the agent with 10 tasks running at once vs idle, in the same run.
// The scripted Messages API runs in a child process, so only the daemon side is measured.
// Each task streams a long reply slowly and calls a tool, so all 10 are mid-stream together.
// Target: under 40 MB more than idle.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startHarness } from '../../daemon/test/agent/harness.js';
import { report } from './stats.js';

const TASKS = 10;
const here = path.dirname(fileURLToPath(import.meta.url));
const helper = path.resolve(here, '../../daemon/test/helpers/model-server.js');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
function settledRss(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().rss;
}

// The model server: every first call of a task streams ~8 KB of text over ~3 s, then asks for a tool;
// the second call answers at once.
const child = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `
  const { startModelServer } = await import(${JSON.stringify(helper)});
  const s = await startModelServer((req) => req.body.messages.length > 1
    ? { content: [{ type: 'text', text: 'Done.' }] }
    : { content: [{ type: 'text', text: 'Working on it. '.repeat(500) }, { type: 'tool_use', name: 'big', input: { chars: 20000 } }], chunkDelayMs: 1.5 });
  console.log(s.url);
`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise<string>((resolve) =>
  readline.createInterface({ input: child.stdout! }).once('line', resolve),
);

try {
  const h = await startHarness({ modelUrl: url, config: { agent: { maxParallelTasks: TASKS } } });
  // Warm up: one task through every path (SDK, store, events) before the idle figure.
  const warm = await h.send('thread.create', { text: 'warm up' });
  await h.waitTask(warm.task.id, ['done'], 60_000);
  await h.agent.idle();
  const idle = settledRss();

  const ids: string[] = [];
  for (let i = 0; i < TASKS; i++) ids.push((await h.send('thread.create', { text: `task ${i}` })).task.id);
  let peak = 0;
  let concurrent = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    concurrent = Math.max(concurrent, h.agent.runningTasks());
  }, 50);
  for (const id of ids) await h.waitTask(id, ['done', 'failed'], 120_000);
  clearInterval(sampler);
  await h.agent.idle();
  const after = settledRss();
  await h.cleanup();

  console.log(
    `  idle: ${mb(idle)}; peak with ${concurrent} tasks running at once: ${mb(peak)}; after they ended: ${mb(after)}`,
  );
  const ok = report(
    `RSS with ${TASKS} running tasks vs idle`,
    `+${mb(peak - idle)}`,
    peak - idle < 40 * 1024 * 1024 && concurrent === TASKS,
    '< 40 MB more, all 10 at once',
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  child.kill();
}
