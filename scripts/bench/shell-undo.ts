// What undo costs a shell command, the daemon in its own process: before each command Errand keeps
// the files under its working folder (shell-journal.ts, shell-kept.ts) and compares them after.
// A task of COMMANDS turns each runs `/bin/true` (sandboxed, allowed by a rule) in a folder of 200 files x 100 KB (20 MB); the
// baseline, interleaved round by round, is the same task in an empty folder. Measured on the
// scripted Messages API server: the gap between one answer's end and the next request, i.e. the
// command with everything around it. Overhead = median gap (full folder) - median gap (empty).
// Target: <= 100 ms per command once the folder is kept (its unchanged files are not read again),
// and flat: the last commands of a task cost no more than 1.5x the first ones (+ 10 ms).
// For reference, the first command after a start, which keeps the whole folder, is printed too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ModelServer,
  type RecordedRequest,
  reply,
  startModelServer,
  text,
  toolUse,
} from '../../daemon/test/helpers/model-server.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';
import { ms, percentile, report } from './stats.js';
import { connectTaskClient, prepareTaskHome } from './tiny-tasks.js';

const FILES = 200;
const FILE_BYTES = 100 * 1024;
const COMMANDS = 12;
const ROUNDS = 3;
const TRUE = '/bin/true';

const turnsSoFar = (req: RecordedRequest) =>
  (req.body?.messages ?? []).filter((m: { role: string }) => m.role === 'assistant').length;
const folderOf = (req: RecordedRequest) =>
  JSON.stringify(req.body?.messages?.[0] ?? '').includes('FULL') ? 'full' : 'empty';

/** Gaps (ms) between one answer's end and the next request, from request index `from` on. */
function gaps(server: ModelServer, from: number): number[] {
  const r = server.requests.slice(from);
  const out: number[] = [];
  for (let i = 1; i < r.length; i++) out.push(r[i].arrivedHr - (r[i - 1].answeredHr ?? r[i - 1].arrivedHr));
  return out;
}

export async function benchShellUndo(): Promise<boolean> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-shell-'));
  const server = await startModelServer();
  const workspace = path.join(home, 'workspace');
  const folders = { full: path.join(workspace, 'full'), empty: path.join(workspace, 'empty') };
  // Each call a little different (`true` ignores its argument): the runaway check would stop a task
  // repeating one call.
  server.setScript((req) => {
    const n = turnsSoFar(req);
    return n < COMMANDS
      ? reply(text(`Step ${n}.`), toolUse('shell', { argv: [TRUE, `step-${n}`], cwd: folders[folderOf(req)] }))
      : reply(text('Done.'));
  });
  let daemon: DaemonProcess | undefined;
  try {
    const token = await prepareTaskHome(home, 2);
    const config = JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'));
    config.policy = { rules: [{ tool: 'shell', match: TRUE, decision: 'allow' }] };
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config));
    for (const dir of Object.values(folders)) fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < FILES; i++) {
      const sub = path.join(folders.full, `d${i % 10}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `f${i}.bin`), Buffer.alloc(FILE_BYTES, i));
    }
    const written = Date.now();
    // A PATH, so the sandbox (bwrap, socat, rg) is found: without it every command would ask first.
    daemon = await startDaemonProcess(home, {
      ANTHROPIC_API_KEY: 'sk-bench',
      ANTHROPIC_BASE_URL: server.url,
      PATH: '/usr/bin:/bin',
    });
    const client = await connectTaskClient(daemon.url, token);
    const task = async (which: 'full' | 'empty') => {
      const from = server.requests.length;
      const state = await client.runTask(which === 'full' ? 'Run it in FULL.' : 'Run it in EMPTY.');
      if (state !== 'done') throw new Error(`the ${which} task ended ${state}`);
      const n = server.requests.length - from;
      if (n !== COMMANDS + 1) throw new Error(`${n} model calls, expected ${COMMANDS + 1}`);
      const g = gaps(server, from);
      process.stdout.write(`  ${COMMANDS} commands in the ${which} folder: median ${ms(percentile(g, 50))} each\n`);
      return g;
    };
    // The first command keeps the whole folder (nothing kept yet): for reference.
    const first = (await task('full'))[0];
    // Files are trusted unchanged by their signature only once they settled (2 s after a change).
    while (Date.now() - written < 2500) await new Promise((r) => setTimeout(r, 100));
    await task('empty');
    await task('full'); // warm-up of both paths

    const full: number[][] = [];
    const empty: number[][] = [];
    for (let r = 0; r < ROUNDS; r++) {
      full.push(await task('full'));
      empty.push(await task('empty'));
    }
    client.close();
    const all = (runs: number[][], lo = 0, hi = COMMANDS) => runs.flatMap((g) => g.slice(lo, hi));
    const over = percentile(all(full), 50) - percentile(all(empty), 50);
    const early = percentile(all(full, 0, 4), 50) - percentile(all(empty, 0, 4), 50);
    const late = percentile(all(full, COMMANDS - 4), 50) - percentile(all(empty, COMMANDS - 4), 50);
    console.log(
      `shell command, gap between model calls (median): in a ${FILES}-file ${Math.round((FILES * FILE_BYTES) / 1024 / 1024)} MB folder ${ms(percentile(all(full), 50))}, in an empty folder ${ms(percentile(all(empty), 50))}`,
    );
    console.log(
      `undo's cost per command: median ${ms(over)}; commands 1-4 ${ms(early)}, ${COMMANDS - 3}-${COMMANDS} ${ms(late)}; the first command after a start ${ms(first)} (keeps the whole folder)`,
    );
    const a = report('undo cost per shell command, 20 MB folder kept', ms(over), over <= 100, '<= 100 ms');
    const b = report(
      'undo cost, last commands vs first',
      `${ms(late)} vs ${ms(early)}`,
      late <= Math.max(early, 0) * 1.5 + 10,
      '<= 1.5x + 10 ms',
    );
    return a && b;
  } finally {
    await daemon?.stop();
    await server.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchShellUndo()) ? 0 : 1;
