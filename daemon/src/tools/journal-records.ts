// A task's record of its changes on disk, under journal/<taskId>/: changes.jsonl, one JSON line per
// change or mark (appended, durably), and blobs/, the content before each change, by its sha256.
// The file's format lives here; what its lines mean (intents settled, undo marks) is read elsewhere.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ChangeEntry } from '../../../shared/src/index.js';
import { FolderIndex } from '../util/folder-index.js';
import { exists, writeAtomic } from './journal-io.js';
import { sha256, ToolError } from './util.js';

export interface JournalEntry extends ChangeEntry {
  kind: 'file' | 'dir';
  /** Blob name (sha256) of the content before the change, for write/edit. */
  beforeBlob?: string;
  beforeMode?: number;
  /** sha256 of the file content right after the change (files only). */
  afterSha?: string;
  /** Where a trashed path went. */
  trashPath?: string;
}

/** One line of a task's change file. */
export type JournalLine =
  /** A change; with `intent`, written before it was made: it counts once settled (below). */
  | { entry: JournalEntry; intent?: true }
  /** Intents settled: made (`landed`) or not made after all (`missed`). The first word on an id holds. */
  | { landed: string[] }
  | { missed: string[] }
  /** What a shell run changed, in one line (a torn line holds none of it, so recovery redoes it whole). */
  | { external: JournalEntry[]; run?: string }
  /** `by`: the undo whose marks these are, until its result is reported (untagged: reported). */
  | { undone: string[]; at: number; by?: string }
  /** Written (durably) before an undo acts: a crash may leave these reversed but not marked undone. */
  | { undoing: string[]; at: number; by?: string }
  /** Undos whose results reached their caller (the command's record that holds the reply is durable). */
  | { reported: string[]; at: number };

/** An id the journal can keep a task's folder under: one plain path segment. */
export const isTaskId = (taskId: string): boolean =>
  /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(taskId) && !taskId.includes('..');

export const newChangeId = () => `chg_${crypto.randomBytes(8).toString('base64url')}`;

/** The change files of every task, in one folder (a task's own folder under it). */
export class TaskRecords {
  /** Tasks that have a change file (most tasks change nothing; every task's end asks). */
  private readonly withChanges: FolderIndex;

  constructor(private readonly dir: string) {
    this.withChanges = new FolderIndex(dir, (name) => (name.startsWith('.') ? undefined : name));
  }

  /** Whether the task has a change file, told without a look at the disk once the folder is listed. */
  has(taskId: string): boolean {
    return this.withChanges.has(taskId);
  }

  private taskDir(taskId: string): string {
    if (!isTaskId(taskId)) throw new ToolError(`invalid task id "${taskId.slice(0, 40)}"`);
    return path.join(this.dir, taskId);
  }

  /** Append a line; durable on return unless `sync` is false (then the next durable append takes it along). */
  async append(taskId: string, line: JournalLine, sync = true): Promise<void> {
    const dir = this.taskDir(taskId);
    this.withChanges.add(taskId);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const h = await fsp.open(path.join(dir, 'changes.jsonl'), 'a', 0o600);
    try {
      await h.write(JSON.stringify(line) + '\n');
      if (sync) await h.datasync();
    } finally {
      await h.close();
    }
  }

  async saveBlob(taskId: string, data: Buffer): Promise<string> {
    const name = sha256(data);
    const blobs = path.join(this.taskDir(taskId), 'blobs');
    await fsp.mkdir(blobs, { recursive: true, mode: 0o700 });
    const file = path.join(blobs, name);
    if (!(await exists(file))) await writeAtomic(file, data, 0o600);
    return name;
  }

  async readBlob(taskId: string, name: string): Promise<Buffer> {
    if (!/^[0-9a-f]{64}$/.test(name)) throw new Error('bad blob name');
    return fsp.readFile(path.join(this.taskDir(taskId), 'blobs', name));
  }

  /** The lines of a task's change file (a torn last line after a crash is left out). */
  async lines(taskId: string): Promise<JournalLine[]> {
    const file = path.join(this.taskDir(taskId), 'changes.jsonl');
    // Most tasks change nothing: asked at the end of every task, a missing file is answered without
    // a failed open (each one builds an error with a stack, a cost per task under load).
    if (!this.withChanges.has(taskId) || !fs.existsSync(file)) return [];
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch {
      return [];
    }
    const out: JournalLine[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const l = JSON.parse(line) as JournalLine;
        if (l && typeof l === 'object') out.push(l);
      } catch {
        /* a torn last line after a crash */
      }
    }
    return out;
  }
}
