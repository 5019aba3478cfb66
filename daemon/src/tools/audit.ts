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

/** Redact secret-named keys and known secret values; shorten long strings (content is hashed, not kept). */
export function auditArgs(value: unknown, secrets: string[] = [], depth = 0): unknown {
  if (typeof value === 'string') {
    let s = value;
    for (const secret of secrets) if (secret.length >= 4) s = s.split(secret).join('[redacted]');
    s = s.replace(/\b(sk-ant-[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+/g, '$1…[redacted]');
    return s.length > MAX_STRING
      ? `${s.slice(0, 200)}… [${s.length} characters, sha256 ${sha256(value).slice(0, 16)}]`
      : s;
  }
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  const r = redact(value) as unknown;
  if (Array.isArray(r)) return r.map((v) => auditArgs(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) out[k] = auditArgs(v, secrets, depth + 1);
  return out;
}

export class AuditLog {
  private fd: number | undefined;
  constructor(private readonly file: string) {}

  private open(): number {
    if (this.fd === undefined) {
      this.fd = fs.openSync(this.file, 'a', 0o600);
      fs.fchmodSync(this.fd, 0o600);
    }
    return this.fd;
  }

  append(entry: AuditEntry): void {
    const fd = this.open();
    fs.writeSync(fd, JSON.stringify(entry) + '\n');
    fs.fdatasyncSync(fd);
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
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
