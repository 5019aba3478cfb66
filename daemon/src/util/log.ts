// Structured logging: JSON lines to the log file, short readable lines to stderr.
// Values under keys that name secrets are replaced before anything is written.
import fs from 'node:fs';
import path from 'node:path';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /token|secret|password|authorization|api[-_]?key|cookie|private|code|auth/i;
const MAX_LOG_BYTES = 5 * 1024 * 1024;
const KEEP_ROTATED = 3;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  close(): void;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

type TerminalStream = 'stdout' | 'stderr';
const lostStreams = new Set<TerminalStream>();
const onTerminalLost = new Set<(stream: TerminalStream, err: NodeJS.ErrnoException) => void>();
let watchingTerminal = false;

/**
 * The terminal `errand start` writes to may go away (`errand start | head -1`, a killed `tee`, a
 * closed terminal pane), or its log file fill the disk: a write then fails (EPIPE, ENOSPC), and
 * that error, unhandled, ends the process. The daemon goes on without it: the stream is dropped
 * (Node writes nothing more to it) and each open log says so once. Once per process.
 */
export function keepRunningWithoutTerminal(): void {
  if (watchingTerminal) return;
  watchingTerminal = true;
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (lostStreams.has(name)) return;
      lostStreams.add(name);
      for (const tell of onTerminalLost) tell(name, err);
    });
  }
}

export function createLogger(opts: { dir?: string; level?: Level; stderr?: boolean }): Logger {
  const min = ORDER[opts.level ?? 'info'];
  let fd: number | undefined;
  let size = 0;
  const file = opts.dir ? path.join(opts.dir, 'daemon.log') : undefined;
  if (file) {
    fs.mkdirSync(opts.dir!, { recursive: true, mode: 0o700 });
    fd = fs.openSync(file, 'a', 0o600);
    size = fs.fstatSync(fd).size;
  }
  const rotate = () => {
    if (!file || fd === undefined) return;
    fs.closeSync(fd);
    for (let i = KEEP_ROTATED - 1; i >= 1; i--) {
      try {
        fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      } catch {
        /* missing */
      }
    }
    fs.renameSync(file, `${file}.1`);
    fd = fs.openSync(file, 'a', 0o600);
    size = 0;
  };
  const toFile = (level: Level, msg: string, safe?: Record<string, unknown>) => {
    if (fd === undefined) return;
    const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...safe }) + '\n';
    // A log line that cannot be written (a full disk) is lost, never the daemon: logging runs in
    // error handlers, where a throw would end the process. The terminal still gets it.
    try {
      fs.writeSync(fd, line);
      size += line.length;
      if (size > MAX_LOG_BYTES) rotate();
    } catch {
      /* dropped */
    }
  };
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const safe = fields ? (redact(fields) as Record<string, unknown>) : undefined;
    toFile(level, msg, safe);
    if (opts.stderr && !lostStreams.has('stderr')) {
      const extra = safe && Object.keys(safe).length ? ' ' + JSON.stringify(safe) : '';
      process.stderr.write(`${level === 'info' ? '' : level.toUpperCase() + ': '}${msg}${extra}\n`);
    }
  };
  const noteLostTerminal = (stream: TerminalStream, err: NodeJS.ErrnoException) =>
    toFile(
      'warn',
      `the terminal Errand was started from is gone (${stream}: ${err.code ?? err.message}); Errand goes on, logging only to ${file}`,
    );
  if (opts.stderr) {
    keepRunningWithoutTerminal();
    onTerminalLost.add(noteLostTerminal);
  }
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    close: () => {
      onTerminalLost.delete(noteLostTerminal);
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}
