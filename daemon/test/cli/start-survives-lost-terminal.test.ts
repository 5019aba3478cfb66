// `errand start | head -1`, a killed `tee`, a closed terminal pane: the reader of the daemon's
// output goes away, and the next line it writes there fails with EPIPE. That must not end the
// daemon: it keeps serving, notes once in its log file that the terminal is gone, and still stops
// cleanly on SIGTERM (exit 0, lock and socket removed).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { freePort, killChildren, runErrand, spawnDaemon } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const children: ChildProcess[] = [];
const folders: string[] = [];
afterEach(async () => {
  await killChildren(children);
  for (const f of folders.splice(0)) fs.rmSync(f, { recursive: true, force: true });
});

function folder(prefix: string): string {
  const dir = tempHome(prefix);
  folders.push(dir);
  return dir;
}

it('a daemon whose output pipe closes keeps running, says so once in its log, and stops cleanly', async () => {
  const home = folder('errand-lost-terminal-');
  const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '' };
  const daemon = await spawnDaemon(env, await freePort());
  children.push(daemon.child);

  // The reader goes away: both pipes closed on this side, as `| head -1` does once it has its line.
  daemon.child.stdout!.destroy();
  daemon.child.stderr!.destroy();
  // Lines for the lost terminal while it runs: a folder allowed (the configuration is reloaded, logged).
  for (let i = 0; i < 3; i++) {
    const allowed = await runErrand(['allow', folder('errand-lost-terminal-root-')], env);
    expect(allowed.code).toBe(0);
  }
  await new Promise((r) => setTimeout(r, 300));
  expect(daemon.child.exitCode).toBeNull();
  expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);

  daemon.child.kill('SIGTERM');
  const stopped = await daemon.exited;
  expect(stopped.code).toBe(0);
  const paths = homePaths(fs.realpathSync(home));
  expect(fs.existsSync(paths.lock)).toBe(false);
  expect(fs.existsSync(paths.socket)).toBe(false);

  const log = fs.readFileSync(path.join(paths.logs, 'daemon.log'), 'utf8');
  const notes = log.split('\n').filter((line) => line.includes('the terminal Errand was started from is gone'));
  expect(notes.length).toBeGreaterThanOrEqual(1);
  expect(notes.length).toBeLessThanOrEqual(2); // once per stream (stdout, stderr)
  expect(notes.join('\n')).toContain('EPIPE');
  expect(log).toContain('"msg":"stopped"');
});
