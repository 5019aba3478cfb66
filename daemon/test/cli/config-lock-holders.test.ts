// The config lock as `errand allow` meets it (real processes):
// - another process holding it (this test process, as the daemon would while a phone's spend.set
//   writes): allow waits, then makes its change on top of the holder's, so neither is lost;
// - a lock left by a process that was killed, or whose pid is now another process's: not waited for;
// - a holder that never lets go: allow gives up after its bounded wait, names the lock and the
//   process, and changes nothing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { takeConfigLock } from '../../src/config/config-lock.js';
import { homePaths } from '../../src/config/paths.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';
import { runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const releases: Array<() => void> = [];
const watchers: fs.FSWatcher[] = [];
afterEach(() => {
  for (const release of releases.splice(0)) release();
  for (const w of watchers.splice(0)) w.close();
});

function setUp() {
  const home = tempHome('errand-config-lock-');
  const config = homePaths(home).config;
  fs.writeFileSync(config, '{\n  "roots": []\n}\n', { mode: 0o600 });
  const folder = fs.realpathSync(tempHome('errand-config-lock-root-'));
  const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '' };
  const marks = () => fs.readdirSync(home).filter((n) => n.startsWith('config.json.lock.'));
  const roots = () => JSON.parse(fs.readFileSync(config, 'utf8')).roots as string[];
  return { home, config, folder, env, marks, roots };
}

function hold(config: string): { mark: string; release: () => void } {
  const home = path.dirname(config);
  const before = new Set(fs.readdirSync(home));
  const release = takeConfigLock(config);
  releases.push(release);
  const mark = fs.readdirSync(home).find((n) => !before.has(n) && n.startsWith('config.json.lock.'));
  expect(mark).toBeDefined();
  return { mark: path.join(home, mark!), release };
}

it('allow waits while another process holds the lock, then adds to what that process wrote', async () => {
  const { home, config, folder, env, roots } = setUp();
  const held = hold(config);
  // Each try of the waiting `errand allow` shows as a mark of its own appearing beside config.json.
  let tried!: () => void;
  const triedOnce = new Promise<void>((resolve) => (tried = resolve));
  watchers.push(
    fs.watch(home, (_event, name) => {
      if (name?.startsWith('config.json.lock.') && path.join(home, name) !== held.mark) tried();
    }),
  );
  const allow = runErrand(['allow', folder], env);
  await triedOnce;
  // The holder's own change, made while allow waits (as the daemon saving a spending cap would).
  const raw = JSON.parse(fs.readFileSync(config, 'utf8'));
  raw.spend = { dailyUsd: 3 };
  fs.writeFileSync(config, JSON.stringify(raw, null, 2));
  held.release();

  const result = await allow;
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(roots()).toEqual([folder]);
  expect(JSON.parse(fs.readFileSync(config, 'utf8')).spend).toEqual({ dailyUsd: 3 });
});

it('a lock left by a killed process, or naming a pid that is now another process, is not waited for', async () => {
  const { config, folder, env, marks, roots } = setUp();
  // What a mark of this live test process is called; then the same but for another start time (a reused pid).
  const held = hold(config);
  held.release();
  const [arrival, pid, start, ...rest] = path.basename(held.mark).slice('config.json.lock.'.length).split('_');
  expect(Number(pid)).toBe(process.pid);
  const reused = path.join(path.dirname(config), `config.json.lock.${[arrival, pid, `${start}9`, ...rest].join('_')}`);
  // A real process takes the lock and is killed holding it.
  const lockModule = pathToFileURL(path.join(PROJECT_ROOT, 'dist/daemon/src/config/config-lock.js')).href;
  const killed = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(lockModule)}); m.takeConfigLock(${JSON.stringify(config)}); process.kill(process.pid, 'SIGKILL');`,
    ],
    { stdio: 'ignore' },
  );
  const signal = await new Promise((resolve) => killed.on('exit', (_code, s) => resolve(s)));
  expect(signal).toBe('SIGKILL');
  expect(marks()).toHaveLength(1);
  fs.writeFileSync(reused, '', { mode: 0o600 });
  expect(marks()).toHaveLength(2);

  const result = await runErrand(['allow', folder], env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(roots()).toEqual([folder]);
  expect(marks()).toEqual([]);
});

it('a holder that never lets go: allow gives up, naming the lock, and changes nothing', async () => {
  const { config, folder, env } = setUp();
  const before = fs.readFileSync(config, 'utf8');
  const held = hold(config);

  const result = await runErrand(['allow', folder], env);
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe(
    `errand allow: ${config} is being changed by another process (process ${process.pid}), which has not finished in 5 s; nothing was changed. Try again. If it goes on, end process ${process.pid}, or remove its lock ${held.mark} if that process is not Errand.`,
  );
  expect(fs.readFileSync(config, 'utf8')).toBe(before);
  expect(fs.readdirSync(path.dirname(config)).filter((n) => n.startsWith('config.json.lock.'))).toEqual([
    path.basename(held.mark),
  ]);
});
