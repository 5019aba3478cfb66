// Temp files the tools make in the user's folders. A write goes to `.errand-<hex>.tmp` beside its
// target and is then renamed over it; a kill -9 in between leaves the temp file in the user's
// folder, where nothing would ever find it. So each one is noted here before it is created (one
// small append, no fsync: a kill keeps the page cache, and on a power loss an unsynced temp file is
// as likely gone as its note), and the next start removes the noted files still there.
import fs from 'node:fs';
import path from 'node:path';

const TEMP_NAME = /^\.errand-[0-9a-f]{12}\.tmp$/;

let fd: number | undefined;
let inFlight = 0;

/** Removes the temp files the last run left, then keeps a new ledger at `file`. Returns how many went. */
export function openTempLedger(file: string): number {
  let removed = 0;
  let noted = '';
  try {
    noted = fs.readFileSync(file, 'utf8');
  } catch {
    /* no ledger: nothing was left */
  }
  for (const line of noted.split('\n')) {
    // Only what this ledger names, and only a regular file with the temp name (never a link).
    if (!path.isAbsolute(line) || !TEMP_NAME.test(path.basename(line))) continue;
    try {
      if (fs.lstatSync(line).isFile()) {
        fs.unlinkSync(line);
        removed++;
      }
    } catch {
      /* renamed into place, or already gone */
    }
  }
  if (fd !== undefined) fs.closeSync(fd);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Append mode: after each truncation to empty, the next note goes at the start again.
  fd = fs.openSync(file, 'w', 0o600);
  fs.closeSync(fd);
  fd = fs.openSync(file, 'a', 0o600);
  inFlight = 0;
  return removed;
}

export function closeTempLedger(): void {
  if (fd !== undefined) fs.closeSync(fd);
  fd = undefined;
}

/**
 * Note a temp file about to be created in `folder` (a real path, or an opened folder under
 * /proc/self/fd). True when noted: then call tempDone once it is gone.
 */
export function noteTemp(folder: string, name: string): boolean {
  if (fd === undefined) return false;
  try {
    const real = folder.startsWith('/proc/self/fd/') ? fs.readlinkSync(folder) : folder;
    fs.writeSync(fd, `${path.join(real, name)}\n`);
  } catch {
    return false; // not noted: the write goes on (a crash now would leave this one temp file)
  }
  inFlight++;
  return true;
}

/** A noted temp file is gone (renamed into place or removed): with none in flight, the ledger empties. */
export function tempDone(): void {
  if (fd === undefined || inFlight === 0) return;
  if (--inFlight === 0) fs.ftruncateSync(fd, 0);
}
