// Keep the computer awake while a task runs: hold a sleep inhibitor (systemd-inhibit on Linux,
// caffeinate on macOS) from the first busy task until the last one ends.
import { spawn as nodeSpawn } from 'node:child_process';
import { ACTIVE_TASK_STATES } from '../../../shared/src/index.js';
import type { DaemonModule, StatusPart } from '../context.js';
import type { EventLog } from '../store/event-log.js';
import type { Logger } from '../util/log.js';
import { which } from './runner.js';

/** After the inhibitor failed to start, wait this long before trying again. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/** The little of a ChildProcess that keep-awake uses; tests pass a fake. */
export interface InhibitorProcess {
  pid?: number;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  stdin?: { end(): void; on(event: 'error', listener: (err: Error) => void): unknown } | null;
  stderr?: { on(event: 'data', listener: (chunk: Buffer | string) => void): unknown } | null;
}

export type InhibitorSpawner = (command: string, args: string[]) => InhibitorProcess;

export interface KeepAwakeOptions {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  spawn?: InhibitorSpawner;
  /** Process id the inhibitor watches (macOS caffeinate -w); defaults to this process. */
  pid?: number;
}

/**
 * The command that holds the machine awake, or undefined when there is none on this system.
 * On Linux the inhibitor's child reads its stdin (a pipe from the daemon) instead of
 * `sleep infinity`: when the daemon dies, even by kill -9, the pipe closes and the lock goes with it.
 */
export function inhibitCommand(
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
  pid: number,
): { command: string; args: string[] } | undefined {
  if (platform === 'linux') {
    const bin = which('systemd-inhibit', env);
    if (!bin) return undefined;
    return {
      command: bin,
      args: [
        '--what=sleep:idle',
        '--who=Errand',
        '--why=Errand task running',
        '--mode=block',
        'sh',
        '-c',
        'read -r _ || :',
      ],
    };
  }
  if (platform === 'darwin') {
    const bin = which('caffeinate', env);
    if (!bin) return undefined;
    // -i: no idle sleep; -w: let go when the daemon exits, however it exits.
    return { command: bin, args: ['-i', '-w', String(pid)] };
  }
  return undefined;
}

const defaultSpawn =
  (env: NodeJS.ProcessEnv): InhibitorSpawner =>
  (command, args) =>
    // Own process group, so stopping it also stops the child it runs; no secrets in its environment.
    nodeSpawn(command, args, {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true,
      env: { PATH: env.PATH ?? '/usr/bin:/bin' },
    });

export interface KeepAwake extends DaemonModule {
  /** True while an inhibitor is held. */
  active(): boolean;
  /** keepAwake: whether an inhibitor is held now. */
  status(): StatusPart;
}

/** What keep-awake uses: the task events it follows and the log. */
export interface KeepAwakeDeps {
  events: Pick<EventLog, 'subscribe'>;
  log: Logger;
}

export function startKeepAwake(deps: KeepAwakeDeps, opts: KeepAwakeOptions = {}): KeepAwake {
  const { log } = deps;
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  const spawner = opts.spawn ?? defaultSpawn(env);
  const pid = opts.pid ?? process.pid;
  const busyTasks = new Map<string, string>();
  let child: InhibitorProcess | undefined;
  let held = false;
  let failedAt = 0;
  let stopped = false;
  let warnedMissing = false;

  const acquire = () => {
    if (child || stopped) return;
    if (failedAt && Date.now() - failedAt < RETRY_AFTER_FAILURE_MS) return;
    const cmd = inhibitCommand(platform, env, pid);
    if (!cmd) {
      if (!warnedMissing) {
        log.info(
          'keep-awake: no sleep inhibitor on this system (systemd-inhibit or caffeinate); the computer may sleep during tasks',
        );
        warnedMissing = true;
      }
      return;
    }
    let proc: InhibitorProcess;
    try {
      proc = spawner(cmd.command, cmd.args);
    } catch (err) {
      failedAt = Date.now();
      log.warn('keep-awake: could not start the sleep inhibitor', { error: (err as Error).message });
      return;
    }
    child = proc;
    held = true;
    let stderr = '';
    proc.stderr?.on('data', (c) => {
      if (stderr.length < 2000) stderr += c.toString();
    });
    proc.stdin?.on('error', () => undefined);
    const gone = (why: string) => {
      if (child !== proc) return;
      child = undefined;
      held = false;
      if (busyTasks.size > 0 && !stopped) {
        failedAt = Date.now();
        log.warn('keep-awake: the sleep inhibitor ended while a task is running', {
          reason: why,
          stderr: stderr.trim() || undefined,
        });
      }
    };
    proc.on('error', (err) => gone(err.message));
    proc.on('exit', (code, signal) => gone(signal ? `signal ${signal}` : `exit code ${code}`));
    log.info('keep-awake: holding the computer awake while tasks run', { command: cmd.command });
  };

  const release = () => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    held = false;
    try {
      proc.stdin?.end();
    } catch {
      /* already closed */
    }
    try {
      if (proc.pid && !opts.spawn)
        process.kill(-proc.pid, 'SIGTERM'); // the whole group
      else proc.kill('SIGTERM');
    } catch {
      try {
        proc.kill('SIGTERM');
      } catch {
        /* already gone */
      }
    }
    log.info('keep-awake: released; no task is running');
  };

  const unsubscribe = deps.events.subscribe((e) => {
    if (e.event.kind !== 'task.updated') return;
    const task = e.event.task;
    if (ACTIVE_TASK_STATES.has(task.state)) busyTasks.set(task.id, task.state);
    else busyTasks.delete(task.id);
    if (busyTasks.size > 0) acquire();
    else {
      failedAt = 0;
      release();
    }
  });

  return {
    active: () => held,
    status: () => ({ keepAwake: held }),
    async stop() {
      stopped = true;
      unsubscribe();
      release();
    },
  };
}
