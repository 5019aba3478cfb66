// `errand schedules` against the real daemon process (built CLI), and an occurrence missed while
// the daemon was killed: recorded at the next start and caught up by its rule.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { freePort, killChildren, runErrand, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 120_000);

let server: ModelServer;
let home: string;
let env: Record<string, string>;
const children: ChildProcess[] = [];

beforeEach(async () => {
  server = await startModelServer(() => reply(text('Plants watered (in spirit).')));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-schedules-cli-'));
  env = {
    ERRAND_HOME: home,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: 'sk-test-key',
    ERRAND_MODEL: 'claude-sonnet-4-6',
  };
});
afterEach(async () => {
  await killChildren(children);
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

async function start(port: number) {
  const d = await spawnDaemon(env, port);
  children.push(d.child);
  return d;
}

async function errand(...args: string[]) {
  const r = await runErrand(['schedules', ...args], env);
  return { ...r, json: () => JSON.parse(r.stdout) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('lists, adds, pauses, resumes, runs and removes schedules, in words and in JSON', async () => {
  const port = await freePort();
  await start(port);
  expect((await errand()).stdout).toMatch(/No schedules yet/);

  const added = await errand(
    'add',
    'Water the plants',
    '--weekdays',
    '18:00',
    '--tz',
    'Europe/Paris',
    '--catch-up',
    'ask',
    '--json',
  );
  expect(added.code).toBe(0);
  const s = added.json() as Schedule;
  expect(s).toMatchObject({ title: 'Water the plants', state: 'active', catchUp: 'ask', timeZone: 'Europe/Paris' });
  expect(s.when).toEqual({ kind: 'weekdays', time: '18:00' });
  expect(s.nextRunAt).toBeGreaterThan(Date.now());

  const listed = await errand('list');
  expect(listed.stdout).toContain(s.id);
  expect(listed.stdout).toMatch(/weekdays at 18:00 \(Europe\/Paris\); catch-up: ask/);
  expect(listed.stdout).toMatch(/next: \d{4}-\d\d-\d\d 18:00/);

  const paused = await errand('pause', s.id);
  expect(paused.stdout).toMatch(/^Paused\./);
  expect(((await errand('--json')).json() as Schedule[])[0].state).toBe('paused');
  expect((await errand('resume', s.id, '--json')).json().schedule.state).toBe('active');

  const ran = (await errand('run', s.id, '--json')).json() as { taskId: string; threadId: string };
  expect(ran.threadId).toMatch(/^thr_/);
  await until('the run recorded as ran', async () => {
    const list = (await errand('--json')).json() as Schedule[];
    return list[0].history.at(-1)?.outcome === 'ran';
  });
  expect(server.requests[0].body.messages[0].content[0].text).toBe('Water the plants');
  const ranStatus = JSON.parse((await runErrand(['status', '--json'], env)).stdout);
  expect(ranStatus.spend.schedules).toEqual([{ id: s.id, title: 'Water the plants', spentUsd: expect.any(Number) }]);

  const bad = await errand('add', 'x', '--daily', '25:00');
  expect(bad.code).toBe(2); // a usage error, refused before the daemon is asked
  expect(bad.stderr).toMatch(/HH:MM/);
  const none = await errand('add', 'x');
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/Say when/);

  // Spend today and this month, in words and in JSON.
  const status = await runErrand(['status', '--json'], env);
  expect(JSON.parse(status.stdout).spend).toMatchObject({ monthUsd: expect.any(Number), todayUsd: expect.any(Number) });
  expect((await runErrand(['status'], env)).stdout).toMatch(/Spend: {5}\$\d+\.\d\d today, \$\d+\.\d\d this month/);

  // It ran, so it has a thread, which stays; one that never ran has none to speak of.
  expect((await errand('remove', s.id)).stdout).toBe(`Removed ${s.id}. Its thread stays.\n`);
  expect((await errand('--json')).json()).toEqual([]);
  const unrun = (await errand('add', 'Never ran', '--daily', '06:00', '--json')).json() as Schedule;
  expect((await errand('remove', unrun.id)).stdout).toBe(`Removed ${unrun.id}.\n`);
  const gone = await errand('pause', s.id);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toMatch(/no such schedule/);
}, 60_000);

it('an occurrence due while the daemon was killed is recorded as missed at the next start and caught up', async () => {
  const port = await freePort();
  const first = await start(port);
  // One occurrence a few seconds ahead (six-field cron, seconds first, in UTC).
  const due = new Date(Math.ceil((Date.now() + 8000) / 1000) * 1000);
  const expr = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} ${due.getUTCDate()} ${due.getUTCMonth() + 1} *`;
  const s = (await errand('add', 'Morning brief', '--cron', expr, '--tz', 'UTC', '--json')).json() as Schedule;
  expect(s.nextRunAt).toBe(due.getTime());
  first.child.kill('SIGKILL');
  await first.exited;
  await until('the due time to pass', async () => Date.now() > due.getTime() + 1000);
  expect(server.requests).toHaveLength(0);

  await start(port);
  const occ = await until('the missed occurrence caught up', async () => {
    const list = (await errand('--json')).json() as Schedule[];
    const o = list[0].history.at(-1);
    return o?.outcome === 'ran' ? o : undefined;
  });
  expect(occ).toMatchObject({ dueAt: due.getTime(), late: true });
  expect(occ.reason).toMatch(/Errand was not running/);
  expect(server.requests).toHaveLength(1);
  const words = (await errand()).stdout;
  expect(words).toMatch(/ran \(late\)/);
}, 60_000);

/** The next day Berlin's clocks go forward (the last Sunday of March), at least two days ahead. */
function nextSpringForward(): string {
  for (let y = new Date().getUTCFullYear(); ; y++) {
    const d = new Date(Date.UTC(y, 2, 31));
    d.setUTCDate(31 - d.getUTCDay());
    if (d.getTime() > Date.now() + 2 * 86_400_000) return d.toISOString().slice(0, 10);
  }
}

it('a next run at a time the clocks skip says why it shows the time of the change', async () => {
  const port = await freePort();
  await start(port);
  const day = nextSpringForward();
  const sentence = `02:30 doesn't exist on ${day} because the clocks go forward that night: it runs at the change, 03:00.`;
  const added = await errand('add', 'Send the spring report', '--once', `${day} 02:30`, '--tz', 'Europe/Berlin');
  expect(added.code).toBe(0);
  expect(added.stdout).toContain(`next: ${day} 03:00`);
  expect(added.stdout).toContain(sentence);
  const listed = (await errand()).stdout;
  expect(listed).toContain(sentence);
  // A time that exists has no such sentence; a paused schedule has no next run to explain.
  await errand('add', 'Water the plants', '--daily', '03:00', '--tz', 'Europe/Berlin');
  const id = ((await errand('--json')).json() as Schedule[]).find((s) => s.nextRunSkipped)!.id;
  await errand('pause', id);
  expect((await errand()).stdout).not.toMatch(/doesn't exist/);
}, 60_000);
