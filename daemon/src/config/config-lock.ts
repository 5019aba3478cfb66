// One change of config.json at a time, across processes. The CLI (`errand allow`, `disallow`,
// `connectors`, `expose`) and the daemon (a phone's spend.set, web.set) each read the file, change
// it and write it back whole: two doing that at once lost one's change (a folder said "Allowed",
// a folder said "Removed" back again, a spending cap the phone was told of).
//
// Each process that wants to change it creates a mark of its own beside it, exclusively (O_EXCL):
// `config.json.lock.<arrival>_<pid>_<start>_<boot>_<random>`, empty, its writer named in its name
// (see util/process-identity.ts). It then lists the marks: alone, it holds the lock until it
// removes its mark. Of two that mark at once, the later to list sees the other's mark, so never
// both go on. Seeing others, the one whose name sorts first (the earliest to arrive) keeps its mark
// and waits for them to finish or step back; the others remove theirs, pause and mark again.
//
// A mark whose writer has ended (kill -9, a power cut) is removed by whoever finds it: its name is
// its writer's alone, so no live process's mark can be there instead. Nothing is ever taken over.
// A live holder is waited for, a bounded time, then the change is refused, naming its mark.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, ownProcessName, type ProcessName } from '../util/process-identity.js';

/** How long a change waits for another process's: changes take milliseconds, so only a stuck one is waited out. */
export const CONFIG_LOCK_WAIT_MS = 5000;
const PAUSE_MS = 4;

export class ConfigLockBusyError extends Error {
  readonly exitCode = 75; // EX_TEMPFAIL: trying again later can work
  constructor(
    readonly configFile: string,
    readonly lockFile: string,
    readonly pid: number,
    waitedMs: number,
  ) {
    super(
      `${configFile} is being changed by another process (process ${pid}), which has not finished in ${Math.round(waitedMs / 1000)} s; nothing was changed. Try again. If it goes on, end process ${pid}, or remove its lock ${lockFile} if that process is not Errand.`,
    );
  }
}

/** Run `work` (read, change, write config.json) while this process alone may change `configFile`. */
export function withConfigLock<T>(configFile: string, work: () => T, waitMs = CONFIG_LOCK_WAIT_MS): T {
  const release = takeConfigLock(configFile, waitMs);
  try {
    return work();
  } finally {
    release();
  }
}

/** Take the lock on `configFile` (its folder must exist); returns its release. */
export function takeConfigLock(configFile: string, waitMs = CONFIG_LOCK_WAIT_MS): () => void {
  const dir = path.dirname(configFile);
  const prefix = `${path.basename(configFile)}.lock.`;
  const me = ownProcessName();
  // Fixed width, so names sort by arrival: the earliest waiter goes next (clocks decide only the order, never safety).
  const arrival = String(Date.now()).padStart(16, '0');
  const startedAt = Date.now();
  let mine: string | undefined;
  try {
    for (;;) {
      mine ??= placeMark(dir, `${prefix}${arrival}_${me.pid}_${me.start ?? '-'}_${me.boot ?? '-'}_`);
      const others = othersLiveMarks(dir, prefix, mine);
      if (others.length === 0) {
        const held = mine;
        mine = undefined;
        return () => fs.rmSync(held, { force: true });
      }
      const first = others.reduce((a, b) => (b.path < a.path ? b : a));
      // One that came earlier goes first: step back, so that it finds itself alone.
      if (first.path < mine) {
        fs.rmSync(mine, { force: true });
        mine = undefined;
      }
      const waited = Date.now() - startedAt;
      if (waited >= waitMs) throw new ConfigLockBusyError(configFile, first.path, first.pid, waited);
      pause(PAUSE_MS + Math.floor(Math.random() * PAUSE_MS * 2));
    }
  } finally {
    if (mine) fs.rmSync(mine, { force: true });
  }
}

function placeMark(dir: string, stem: string): string {
  const mark = path.join(dir, stem + crypto.randomBytes(4).toString('hex'));
  fs.closeSync(fs.openSync(mark, 'wx', 0o600));
  return mark;
}

interface Mark extends ProcessName {
  path: string;
}

const MARK = /^\d{16}_(\d+)_([^_]+)_([^_]+)_[0-9a-f]+$/;

/** The other marks beside config.json whose writers still run; those of ended writers are removed. */
function othersLiveMarks(dir: string, prefix: string, mine: string): Mark[] {
  const marks: Mark[] = [];
  for (const name of fs.readdirSync(dir)) {
    const match = name.startsWith(prefix) ? MARK.exec(name.slice(prefix.length)) : null;
    if (!match || path.join(dir, name) === mine) continue;
    const known = (word: string) => (word === '-' ? undefined : word);
    const mark = { path: path.join(dir, name), pid: Number(match[1]), start: known(match[2]), boot: known(match[3]) };
    // One with this very pid is an earlier process's (or an earlier change of this one, which is done).
    if (mark.pid !== process.pid && isAlive(mark)) marks.push(mark);
    else fs.rmSync(mark.path, { force: true });
  }
  return marks;
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
