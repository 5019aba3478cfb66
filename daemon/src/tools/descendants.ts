// Every process a shell call starts carries a marker in its environment (inherited by all its
// descendants, also those that leave the process group with setsid). When the call ends, and at
// the next start after a crash, every process still carrying a marker is killed: nothing a
// command started outlives it. Linux only (/proc); elsewhere the process group kill remains.
import crypto from 'node:crypto';
import fs from 'node:fs';

export const CALL_MARKER_VAR = 'ERRAND_CALL';

export function newCallMarker(): string {
  return crypto.randomBytes(9).toString('hex');
}

/** SIGKILL every process (other than this one) whose environment carries one of the markers. */
export function killMarked(markers: Iterable<string>): number {
  const needles = [...markers].map((m) => Buffer.from(`${CALL_MARKER_VAR}=${m}\0`));
  if (!needles.length || process.platform !== 'linux') return 0;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return 0;
  }
  let killed = 0;
  for (const pid of pids) {
    let environ: Buffer;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or not ours
    }
    if (!needles.some((n) => environ.includes(n))) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      /* already gone */
    }
  }
  return killed;
}
