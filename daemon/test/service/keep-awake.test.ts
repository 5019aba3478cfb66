// Keep-awake holds a sleep inhibitor from the first busy task until the last one ends.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { type InhibitorProcess, inhibitCommand, startKeepAwake } from '../../src/service/keep-awake.js';
import { EventLog } from '../../src/store/event-log.js';
import { createLogger } from '../../src/util/log.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-keepawake-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Keep-awake's dependencies: a real event log and a logger. */
async function keepAwakeDeps(name: string) {
  const events = await EventLog.open(path.join(tmp, name, 'events'));
  return { events, log: createLogger({}) };
}

function task(id: string, state: Task['state']): Task {
  return {
    id,
    threadId: 't1',
    state,
    messageId: `m-${id}`,
    createdAt: Date.now(),
    turns: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 0,
  };
}

class FakeProcess extends EventEmitter implements InhibitorProcess {
  pid = 4242;
  killed: string[] = [];
  stdin = Object.assign(new EventEmitter(), {
    ended: false,
    end() {
      this.ended = true;
    },
  });
  kill(signal: NodeJS.Signals = 'SIGTERM') {
    this.killed.push(signal);
    setImmediate(() => this.emit('exit', null, signal));
    return true;
  }
}

function standIn(dir: string, name: string, body: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

describe('keep-awake', () => {
  it('starts with the first busy task and stops with the last', async () => {
    const deps = await keepAwakeDeps('fake');
    const { events } = deps;
    const bin = standIn(path.join(tmp, 'bin-fake'), 'systemd-inhibit', 'exit 0');
    const spawned: { command: string; args: string[]; proc: FakeProcess }[] = [];
    const ka = startKeepAwake(deps, {
      platform: 'linux',
      env: { PATH: bin },
      spawn: (command, args) => {
        const proc = new FakeProcess();
        spawned.push({ command, args, proc });
        return proc;
      },
    });
    expect(ka.status().keepAwake).toBe(false);

    await events.append({ kind: 'task.updated', task: task('a', 'queued') });
    expect(spawned).toHaveLength(1);
    expect(spawned[0].command).toBe(path.join(bin, 'systemd-inhibit'));
    expect(spawned[0].args.slice(0, 4)).toEqual([
      '--what=sleep:idle',
      '--who=Errand',
      '--why=Errand task running',
      '--mode=block',
    ]);
    expect(ka.status().keepAwake).toBe(true);

    await events.append({ kind: 'task.updated', task: task('a', 'running') });
    await events.append({ kind: 'task.updated', task: task('b', 'running') });
    await events.append({ kind: 'task.updated', task: task('a', 'done') });
    await events.append({ kind: 'task.updated', task: task('b', 'waiting') });
    expect(spawned).toHaveLength(1); // one inhibitor for all tasks
    expect(spawned[0].proc.killed).toEqual([]);
    expect(ka.status().keepAwake).toBe(true);

    await events.append({ kind: 'task.updated', task: task('b', 'failed') });
    expect(spawned[0].proc.killed).toEqual(['SIGTERM']);
    expect(spawned[0].proc.stdin.ended).toBe(true);
    expect(ka.status().keepAwake).toBe(false);

    // Busy again: a fresh inhibitor; stopping the module releases it.
    await events.append({ kind: 'task.updated', task: task('c', 'running') });
    expect(spawned).toHaveLength(2);
    await ka.stop();
    expect(spawned[1].proc.killed).toEqual(['SIGTERM']);
    expect(ka.active()).toBe(false);
    await events.close();
  });

  it('holds a real inhibitor process (stand-in systemd-inhibit on PATH) and ends it when idle', async () => {
    const deps = await keepAwakeDeps('real');
    const { events } = deps;
    const record = path.join(tmp, 'inhibit-args.txt');
    const pidFile = path.join(tmp, 'inhibit-pid.txt');
    // Records its arguments, then runs the command after the options, as systemd-inhibit does.
    const bin = standIn(
      path.join(tmp, 'bin-real'),
      'systemd-inhibit',
      [
        `printf '%s\\n' "$@" > '${record}'`,
        `echo $$ > '${pidFile}'`,
        'while [ $# -gt 0 ]; do case "$1" in --*) shift;; *) break;; esac; done',
        'exec "$@"',
      ].join('\n'),
    );
    const ka = startKeepAwake(deps, { platform: 'linux', env: { PATH: `${bin}:/usr/bin:/bin` } });
    await events.append({ kind: 'task.updated', task: task('x', 'running') });
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    expect(alive(pid)).toBe(true);
    expect(fs.readFileSync(record, 'utf8').split('\n').slice(0, 5)).toEqual([
      '--what=sleep:idle',
      '--who=Errand',
      '--why=Errand task running',
      '--mode=block',
      'sh',
    ]);
    expect(ka.status().keepAwake).toBe(true);

    await events.append({ kind: 'task.updated', task: task('x', 'cancelled') });
    expect(ka.status().keepAwake).toBe(false);
    await waitFor(() => !alive(pid));
    await ka.stop();
    await events.close();
  });

  it('uses caffeinate on macOS, watching the daemon pid, and nothing when no inhibitor exists', () => {
    const bin = standIn(path.join(tmp, 'bin-mac'), 'caffeinate', 'exit 0');
    expect(inhibitCommand('darwin', { PATH: bin }, 123)).toEqual({
      command: path.join(bin, 'caffeinate'),
      args: ['-i', '-w', '123'],
    });
    expect(inhibitCommand('linux', { PATH: path.join(tmp, 'empty') }, 1)).toBeUndefined();
    expect(inhibitCommand('win32', { PATH: bin }, 1)).toBeUndefined();
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
