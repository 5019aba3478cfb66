// The step journal: "this tool call is about to run" must be durable before the call runs, every
// time. A thread write (temp file, fsync, rename, fsync the folder) costs several ms; an append to
// an open file plus fdatasync costs about one. So each task appends its step records here, and the
// turn's checkpoint (a thread write) carries the same facts into the thread file.
//
// One file per running task (<store>/agent-steps/<taskId>.jsonl), removed when the run ends. After
// a crash, recovery folds the records of the run that was going into the thread file. Records name
// the run (`attempt`) and the turn, so leftovers of an earlier run are ignored.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Task, ThreadItem } from '../../../shared/src/index.js';
import { fsyncDir } from '../store/durable-file.js';
import { FolderIndex } from '../util/folder-index.js';
import type { StepEnd, StoredResult } from './loop.js';
import type { WireBlock } from './wire.js';

export interface StepRecord {
  attempt: string;
  /** Committed turns of the task when this turn's reply came in. */
  turn: number;
  /** The reply that asked for the tools (first record of a turn). */
  assistant?: WireBlock[];
  /** Thread items of that reply not yet in the thread file: its text, the planned tool steps. */
  items?: ThreadItem[];
  /** Results of calls that finished since the last record. */
  results?: Record<string, { result: StoredResult; end: StepEnd; endedAt: number }>;
  /** The tool_use id about to run. */
  started?: string;
  /**
   * The task's usage and cost once this turn's reply was billed: recovery counts them though the
   * turn's checkpoint never came (the spending caps count what was paid).
   */
  cost?: Pick<Task, 'usage' | 'costUsd'>;
  /**
   * The task had untrusted content in view by this record (the reply read a page, a result was a
   * connector's output): recovery keeps the task tainted though the turn's checkpoint never came.
   */
  tainted?: true;
}

const SAFE = /^[A-Za-z0-9_.-]{1,160}$/;

export class StepJournal {
  private fds = new Map<string, number>();
  /** Per task, the appends handed on and not yet done: the next waits for them, so records keep their order. */
  private readonly tails = new Map<string, Promise<void>>();
  private ready: Promise<void> | undefined;
  /** Tasks that have a file (most runs, with no tool calls, never make one). */
  private readonly withFile: FolderIndex;

  constructor(private readonly dir: string) {
    this.withFile = new FolderIndex(dir, (name) => (name.endsWith('.jsonl') ? name.slice(0, -6) : undefined));
  }

  private fileOf(taskId: string): string {
    if (!SAFE.test(taskId)) throw new Error(`invalid task id ${taskId}`);
    return path.join(this.dir, `${taskId}.jsonl`);
  }

  /**
   * Append one record durably (fdatasync). The first append of a task creates its file durably.
   * An append handed on while an earlier one of the task is still going (one not waited for) is
   * written after it.
   */
  append(taskId: string, record: StepRecord): Promise<void> {
    const before = this.tails.get(taskId);
    const done = before ? before.then(() => this.write(taskId, record)) : this.write(taskId, record);
    const tail = done.then(
      () => undefined,
      () => undefined, // the caller hears of it; the next record is still written
    );
    this.tails.set(taskId, tail);
    void tail.then(() => {
      if (this.tails.get(taskId) === tail) this.tails.delete(taskId);
    });
    return done;
  }

  private async write(taskId: string, record: StepRecord): Promise<void> {
    let fd = this.fds.get(taskId);
    if (fd === undefined) {
      this.ready ??= fsp.mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
      await this.ready;
      this.withFile.add(taskId);
      fd = fs.openSync(this.fileOf(taskId), 'a', 0o600);
      this.fds.set(taskId, fd);
      await fsyncDir(this.dir);
    }
    const line = JSON.stringify(record) + '\n';
    const handle = fd;
    await new Promise<void>((resolve, reject) => fs.write(handle, line, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => fs.fdatasync(handle, (err) => (err ? reject(err) : resolve())));
  }

  /** The records of a task; a torn last line (a crash mid-append) is left out. */
  async read(taskId: string): Promise<StepRecord[]> {
    let text: string;
    try {
      text = await fsp.readFile(this.fileOf(taskId), 'utf8');
    } catch {
      return [];
    }
    const out: StepRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as StepRecord);
      } catch {
        break;
      }
    }
    return out;
  }

  /** The run ended and the thread file has everything: drop the task's file. */
  async remove(taskId: string): Promise<void> {
    await this.tails.get(taskId); // an append still going writes to the file first
    const fd = this.fds.get(taskId);
    if (fd !== undefined) {
      this.fds.delete(taskId);
      fs.closeSync(fd);
    }
    // Most runs (no tool calls) never made one: known without a lookup or a failed unlink's error.
    const file = this.fileOf(taskId);
    if (!this.withFile.has(taskId)) return;
    this.withFile.delete(taskId);
    await fsp.rm(file, { force: true });
  }

  /**
   * At start-up, once recovery has folded what matters into the thread files: drop every file
   * (synchronously: nothing else runs yet, and each asynchronous call waited on the thread pool).
   */
  async clear(): Promise<void> {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names)
      if (name.endsWith('.jsonl') && !this.fds.has(name.slice(0, -6))) {
        this.withFile.delete(name.slice(0, -6));
        fs.rmSync(path.join(this.dir, name), { force: true });
      }
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
