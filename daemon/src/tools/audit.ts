// The audit log: one JSON line per tool call (task, tool, arguments with secrets redacted, policy
// decision, who approved, outcome), appended to audit.log (0600) in the home folder.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import readline from 'node:readline';
import type { AuditEntry } from '../../../shared/src/index.js';
import { redact } from '../util/log.js';
import { sha256 } from './util.js';

const MAX_STRING = 2000;

/** The outcome of a call's first entry, written before it runs; its outcome entry follows. */
export const AUDIT_STARTED = 'started';
const NEVER_FINISHED = 'started; never finished (the call or the daemon was killed while it ran)';

/**
 * Redact secret-named keys and known secrets (`hideSecrets`: the tools' redactor, which also knows device
 * tokens by their hash and a secret's encodings); shorten long strings (content is hashed, not kept).
 * Each string is redacted whole, before it is shortened: a cut secret no longer matches.
 */
export function auditArgs(value: unknown, hideSecrets: (text: string) => string = (t) => t, depth = 0): unknown {
  if (typeof value === 'string') {
    const s = hideSecrets(value).replace(/\b(sk-ant-[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+/g, '$1…[redacted]');
    return s.length > MAX_STRING
      ? `${s.slice(0, 200)}… [${s.length} characters, sha256 ${sha256(value).slice(0, 16)}]`
      : s;
  }
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  const r = redact(value) as unknown;
  if (Array.isArray(r)) return r.map((v) => auditArgs(v, hideSecrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) out[k] = auditArgs(v, hideSecrets, depth + 1);
  return out;
}

/**
 * Tool calls' entries (`write`) are written at once (in order; a killed daemon keeps them) and made
 * durable by one fdatasync for every entry written meanwhile (group commit): parallel tasks share a
 * flush and the event loop never blocks on the disk. `synced()` resolves once every entry written so
 * far is durable.
 */
export class AuditLog {
  private fd: number | undefined;
  /** Entries written, and how many of them are known durable. */
  private written = 0;
  private durable = 0;
  private flushing = false;
  private waiters: Array<{ upTo: number; resolve: () => void; reject: (err: Error) => void }> = [];
  constructor(private readonly file: string) {}

  private open(): number {
    if (this.fd === undefined) {
      this.fd = fs.openSync(this.file, 'a', 0o600);
      fs.fchmodSync(this.fd, 0o600);
    }
    return this.fd;
  }

  /** Append an entry durably before returning (blocks on the disk: for rare entries). */
  append(entry: AuditEntry): void {
    this.write(entry);
    fs.fdatasyncSync(this.fd!);
    this.durable = this.written;
    this.settle();
  }

  /** Append an entry now; it is durable once `synced()` resolves (tool calls, many in parallel). */
  write(entry: AuditEntry): void {
    const fd = this.open();
    fs.writeSync(fd, JSON.stringify(entry) + '\n');
    this.written++;
    this.flush();
  }

  /** Resolves once every entry appended so far is on disk (rejects if that flush failed). */
  synced(): Promise<void> {
    if (this.durable >= this.written) return Promise.resolve();
    const upTo = this.written;
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushing || this.fd === undefined || this.durable >= this.written) return;
    this.flushing = true;
    const upTo = this.written;
    fs.fdatasync(this.fd, (err) => {
      this.flushing = false;
      if (err) {
        const waiting = this.waiters;
        this.waiters = [];
        for (const w of waiting) {
          if (w.upTo <= upTo && w.upTo > this.durable) w.reject(err);
          else this.waiters.push(w);
        }
      } else this.durable = Math.max(this.durable, upTo);
      this.settle();
      // Entries written during this flush: the next one covers them all. After a failure only a
      // caller still waiting retries.
      if (!err || this.waiters.length) this.flush();
    });
  }

  /** Resolve the callers whose entries are all durable. */
  private settle(): void {
    if (!this.waiters.some((w) => w.upTo <= this.durable)) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.upTo <= this.durable) w.resolve();
      else this.waiters.push(w);
    }
  }

  async forTask(taskId: string, limit = 2000): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let stream: fs.ReadStream;
    try {
      await fsp.access(this.file);
      stream = fs.createReadStream(this.file, 'utf8');
    } catch {
      return out;
    }
    const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
    // A call's "started" entry is replaced by its outcome entry; one without an outcome says so.
    const startedAt = new Map<string, number>();
    for await (const line of rl) {
      if (!line.includes(taskId)) continue;
      try {
        const e = JSON.parse(line) as AuditEntry;
        if (e.taskId !== taskId) continue;
        const open = e.callId !== undefined ? startedAt.get(e.callId) : undefined;
        if (open !== undefined) {
          out[open] = e;
          startedAt.delete(e.callId!);
        } else if (e.outcome === AUDIT_STARTED && e.callId !== undefined) {
          startedAt.set(e.callId, out.length);
          out.push({ ...e, outcome: NEVER_FINISHED });
        } else out.push(e);
      } catch {
        /* torn line */
      }
    }
    return out.slice(-limit);
  }

  close(): void {
    if (this.fd !== undefined) {
      if (this.durable < this.written) {
        try {
          fs.fdatasyncSync(this.fd);
          this.durable = this.written;
        } catch {
          /* reported to whoever waits, below */
        }
      }
      fs.closeSync(this.fd);
    }
    this.fd = undefined;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.upTo <= this.durable) w.resolve();
      else w.reject(new Error('the audit log was closed before this entry was on disk'));
    }
  }
}
