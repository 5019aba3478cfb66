// Running outside programs (systemctl, launchctl, tailscale …) through one injectable function, so
// tests can record the commands instead of touching the real service manager.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export type Runner = (command: string, args: string[], opts?: RunOptions) => Promise<RunResult>;

const SECRET_NAME = /api[-_]?key|token|secret|password|passwd|credential|private/i;

/** The environment for a program we run: the caller's, minus anything that looks like a secret. */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !SECRET_NAME.test(k)) out[k] = v;
  return out;
}

/** The real runner: never throws for a non-zero exit; a missing program is code 127. */
export const execRunner: Runner = (command, args, opts = {}) =>
  new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        env: childEnv(opts.env ?? process.env),
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 8 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        if (e.code === 'ENOENT') return resolve({ code: 127, stdout: '', stderr: `${command}: not found` });
        const code = typeof e.code === 'number' ? e.code : 1;
        resolve({ code, stdout: stdout ?? '', stderr: stderr || (e.killed ? `${command} timed out` : e.message) });
      },
    );
  });

/** A runner that records every call and answers from a script; for tests and --dry-run. */
export function recordingRunner(
  answer: (command: string, args: string[]) => Partial<RunResult> | undefined = () => undefined,
) {
  const calls: string[][] = [];
  const run: Runner = async (command, args) => {
    calls.push([command, ...args]);
    return { code: 0, stdout: '', stderr: '', ...answer(command, args) };
  };
  return { run, calls };
}

/** Find an executable on PATH (like `command -v`), or undefined. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Quote one argument for display in a shell (what --dry-run prints). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
