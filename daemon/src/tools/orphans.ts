// Shell commands run in their own process group, which outlives a daemon killed with -9. Each
// running group is noted in a small file in the home folder; the next start kills what is left.
// On Linux a note carries the process start time, so a recycled process id is never killed.
import fs from 'node:fs';
import { killMarked } from './descendants.js';

interface Note {
  pid: number;
  start: string | null;
  argv0: string;
  /** The call's environment marker: its descendants carry it, also those outside the group. */
  marker?: string;
}

function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null; // field 22: starttime
  } catch {
    return null;
  }
}

export class ProcessNotes {
  private running = new Map<number, Note>();
  constructor(private readonly file: string) {}

  private save(): void {
    try {
      if (this.running.size === 0) fs.rmSync(this.file, { force: true });
      else fs.writeFileSync(this.file, JSON.stringify([...this.running.values()]), { mode: 0o600 });
    } catch {
      /* best effort: a missing note only means a leftover is not reaped */
    }
  }

  add(pid: number, argv0: string, marker?: string): void {
    this.running.set(pid, { pid, start: startTime(pid), argv0, marker });
    this.save();
  }

  remove(pid: number): void {
    if (this.running.delete(pid)) this.save();
  }

  /** Kill the process groups a previous daemon left running; returns what was killed. */
  reap(): Note[] {
    let notes: Note[] = [];
    try {
      notes = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Note[];
    } catch {
      return [];
    }
    const killed: Note[] = [];
    for (const n of Array.isArray(notes) ? notes : []) {
      if (typeof n?.pid !== 'number' || n.pid <= 1) continue;
      const now = startTime(n.pid);
      if (process.platform === 'linux' && (now === null || now !== n.start)) continue; // gone, or a different process now
      try {
        process.kill(-n.pid, 'SIGKILL');
        killed.push(n);
      } catch {
        /* already gone */
      }
    }
    // Descendants that left the group (setsid) still carry their call's marker.
    killMarked(
      (Array.isArray(notes) ? notes : []).flatMap((n) =>
        typeof n?.marker === 'string' && /^[0-9a-f]{18}$/.test(n.marker) ? [n.marker] : [],
      ),
    );
    fs.rmSync(this.file, { force: true });
    return killed;
  }
}
