// What Errand keeps on disk: the store journal, the small store files start opens, and the free
// space left where the home folder is.
import fs from 'node:fs';
import path from 'node:path';
import type { homePaths } from '../config/paths.js';
import { PushStore } from '../push/store.js';
import { loadOrCreateVapidKeys } from '../push/vapid.js';
import { DeviceStore } from '../store/devices.js';
import { StoreCorruptError } from '../store/durable-file.js';
import { SNAPSHOT_FIX } from '../store/journal.js';
import { inspectJournal, journalDirOf } from '../store/repair.js';
import type { Logger } from '../util/log.js';
import type { Check } from './check.js';

/** For the loaders doctor borrows from start: what they would log is not doctor's output. */
const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {}, close() {} };

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

export async function checkDisk(home: string): Promise<Check> {
  let dir = home;
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const s = await fs.promises.statfs(dir);
    const free = s.bavail * s.bsize;
    if (free < 200e6)
      return {
        id: 'disk',
        title: 'Disk space',
        status: 'fail',
        detail: `${gb(free)} free where the home folder is`,
        fix: 'Free some disk space: Errand stops saving work when the disk is full.',
      };
    if (free < 1e9)
      return {
        id: 'disk',
        title: 'Disk space',
        status: 'warn',
        detail: `${gb(free)} free where the home folder is`,
        fix: 'Free some disk space soon (under 1 GB left).',
      };
    return { id: 'disk', title: 'Disk space', status: 'ok', detail: `${gb(free)} free` };
  } catch (err) {
    return {
      id: 'disk',
      title: 'Disk space',
      status: 'unknown',
      detail: `could not measure (${(err as Error).message})`,
    };
  }
}

export function checkJournal(paths: ReturnType<typeof homePaths>): Check {
  const title = 'Store journal';
  try {
    const h = inspectJournal(journalDirOf(paths));
    if (h.status === 'damaged')
      return {
        id: 'journal',
        title,
        status: 'fail',
        detail: h.detail,
        fix: 'Stop Errand and run `errand repair`: it keeps a copy, cuts the journal at the last good record and says what was dropped.',
      };
    if (h.status === 'snapshot')
      return { id: 'journal', title, status: 'fail', detail: h.detail, fix: h.fix ?? SNAPSHOT_FIX };
    if (h.status === 'lost')
      return {
        id: 'journal',
        title,
        status: 'fail',
        detail: h.detail,
        fix:
          h.fix ??
          `If you have a copy of the missing segment file (another disk, a backup), put it back in ${journalDirOf(paths)}. Otherwise stop Errand and run \`errand repair\`: it keeps a copy and goes on from what is left (the lost changes cannot be recovered).`,
      };
    if (h.status === 'covered-damage')
      return {
        id: 'journal',
        title,
        status: 'warn',
        detail: h.detail,
        fix: 'Nothing to do to keep using Errand. To remove the damaged bytes, stop Errand and run `errand repair`: it keeps a copy and removes only them.',
      };
    if (h.status === 'torn') return { id: 'journal', title, status: 'ok', detail: h.detail };
    return { id: 'journal', title, status: 'ok', detail: h.detail };
  } catch (err) {
    return { id: 'journal', title, status: 'unknown', detail: `could not read it (${(err as Error).message})` };
  }
}

/**
 * The small store files start opens (devices.json, push.json, vapid.json), checked by the code that
 * opens them at start, so a file start would refuse gets start's own message and fix. Opening an
 * existing file reads it and changes nothing.
 */
async function checkStoreFile(
  file: string,
  open: () => Promise<string | Omit<Check, 'id' | 'title'>>,
): Promise<Check | undefined> {
  const name = path.basename(file);
  const id = `storeFile:${name}`;
  const title = `Store file ${name}`;
  if (!fs.existsSync(file)) return undefined; // start writes it; nothing to check yet
  try {
    const found = await open();
    return typeof found === 'string' ? { id, title, status: 'ok', detail: found } : { id, title, ...found };
  } catch (err) {
    if (err instanceof StoreCorruptError)
      return { id, title, status: 'fail', detail: `${err.problem}: Errand will not start`, fix: err.message };
    return { id, title, status: 'unknown', detail: `could not check ${file} (${(err as Error).message})` };
  }
}

export function checkStoreFiles(paths: ReturnType<typeof homePaths>): Promise<Array<Check | undefined>> {
  return Promise.all([
    checkStoreFile(path.join(paths.store, 'devices.json'), async () => {
      const n = (await DeviceStore.open(paths.store)).list().length;
      return `valid (${n} paired device${n === 1 ? '' : 's'})`;
    }),
    checkStoreFile(path.join(paths.store, 'push.json'), async () => {
      const n = (await PushStore.open(paths.store)).subscriptions().length;
      return `valid (${n} push subscription${n === 1 ? '' : 's'})`;
    }),
    checkStoreFile(paths.vapid, async () => {
      // Start tightens a key file others can read: a change doctor does not make, so it only says so.
      if (process.platform !== 'win32' && fs.statSync(paths.vapid).mode & 0o077)
        return {
          status: 'warn',
          detail: `${paths.vapid} (the private push key) can be read by other users`,
          fix: `Run \`chmod 600 ${paths.vapid}\` (the next start does it too).`,
        };
      await loadOrCreateVapidKeys(paths.vapid, QUIET);
      return 'valid key pair';
    }),
  ]);
}
