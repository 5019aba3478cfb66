// Reading the daemon's log (JSON lines in <home>/logs/daemon.log, rotated to .1 .2 .3) for people:
// the last lines, readably, and following new lines across rotation.
import fs from 'node:fs';
import path from 'node:path';

export const LOG_NAME = 'daemon.log';
const ROTATED = 3;
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function logFile(logsDir: string): string {
  return path.join(logsDir, LOG_NAME);
}

/** Remove terminal control sequences and other control characters (a device name could carry them). */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function localTime(iso: unknown): string {
  const d = typeof iso === 'string' ? new Date(iso) : undefined;
  if (!d || Number.isNaN(d.getTime())) return '????-??-?? ??:??:??';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

export interface ParsedLine {
  level?: LogLevel;
  text: string;
}

/** One JSON log line as `2026-11-24 04:01:38 WARN  message key=value`; other lines as they are. */
export function formatLogLine(line: string): ParsedLine {
  let obj: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(line) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) obj = v as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  if (!obj) return { text: sanitize(line) };
  const { t, level, msg, ...rest } = obj;
  const lvl =
    typeof level === 'string' && (LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : undefined;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${fieldValue(v)}`)
    .join(' ');
  const text = `${localTime(t)} ${(lvl ?? String(level ?? '?')).toUpperCase().padEnd(5)} ${String(msg ?? '')}${fields ? '  ' + fields : ''}`;
  return { level: lvl, text: sanitize(text) };
}

export function levelAtLeast(level: LogLevel | undefined, min: LogLevel | undefined): boolean {
  if (!min) return true;
  if (!level) return true; // unknown lines are shown
  return LEVELS.indexOf(level) >= LEVELS.indexOf(min);
}

export interface TailResult {
  lines: string[];
  /** Where following should continue: the current file's inode and byte offset. */
  position?: { ino: number; offset: number };
}

/** The last `count` lines across daemon.log and its rotated copies (oldest first). */
export function readTail(logsDir: string, count: number): TailResult {
  const file = logFile(logsDir);
  let position: TailResult['position'];
  let lines: string[] = [];
  const files = [file, ...Array.from({ length: ROTATED }, (_, i) => `${file}.${i + 1}`)];
  for (const f of files) {
    let text: string;
    try {
      const fd = fs.openSync(f, 'r');
      try {
        const st = fs.fstatSync(fd);
        const buf = Buffer.alloc(st.size);
        let read = 0;
        while (read < st.size) {
          const n = fs.readSync(fd, buf, read, st.size - read, read);
          if (n === 0) break;
          read += n;
        }
        text = buf.subarray(0, read).toString('utf8');
        if (f === file) position = { ino: st.ino, offset: read };
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      continue; // missing file
    }
    const own = text.split('\n');
    if (own.at(-1) === '') own.pop();
    lines = [...own, ...lines];
    if (lines.length >= count) break;
  }
  return { lines: count > 0 ? lines.slice(-count) : [], position };
}

export interface FollowOptions {
  signal: AbortSignal;
  pollMs?: number;
  /** Continue from here (from readTail); otherwise start at the end of the current file. */
  from?: { ino: number; offset: number };
}

/**
 * Call onLine for each new line of daemon.log until the signal aborts. Survives rotation (the
 * file is renamed to .1 and a new one starts): the rest of the old file is read, then the new one
 * from its start. Waits for the file when it does not exist yet.
 */
export async function followLog(logsDir: string, onLine: (line: string) => void, opts: FollowOptions): Promise<void> {
  const file = logFile(logsDir);
  const pollMs = opts.pollMs ?? 250;
  let fd: number | undefined;
  let ino = -1;
  let offset = 0;
  let partial = '';
  const buf = Buffer.alloc(64 * 1024);

  const open = (startAtEnd: boolean): boolean => {
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return false;
    }
    const st = fs.fstatSync(fd);
    ino = st.ino;
    if (opts.from && opts.from.ino === st.ino) offset = Math.min(opts.from.offset, st.size);
    else offset = startAtEnd ? st.size : 0;
    opts.from = undefined;
    return true;
  };
  const drain = () => {
    if (fd === undefined) return;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      partial += buf.subarray(0, n).toString('utf8');
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (line) onLine(line);
      }
    }
  };

  // With no starting point, begin at the end (like tail -f); a file that appears later is read whole.
  open(opts.from === undefined);
  try {
    while (!opts.signal.aborted) {
      if (fd === undefined) {
        open(false);
      } else {
        drain();
        let st: fs.Stats | undefined;
        try {
          st = fs.statSync(file);
        } catch {
          st = undefined;
        }
        if (st && st.ino !== ino) {
          // Rotated: finish the old file, then start the new one from the beginning.
          drain();
          if (partial) {
            onLine(partial);
            partial = '';
          }
          fs.closeSync(fd);
          fd = undefined;
          open(false);
          drain();
        } else if (st && st.size < offset) {
          offset = 0; // truncated in place
        }
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          opts.signal.removeEventListener('abort', onAbort);
          resolve();
        }, pollMs);
        opts.signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    drain();
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
