// The daemon's durable state, opened together. Threads, tasks, events and remembered replies are
// folds of one write-ahead journal (store/wal); devices stay a small lowdb document. Opening
// refuses a corrupt or unknown store.
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { HomePaths } from '../config/paths.js';
import { BlobStore } from './blobs.js';
import { CommandLog } from './commands.js';
import { DeviceStore } from './devices.js';
import { EventLog } from './event-log.js';
import { DiskFullError, Journal, type JournalOptions } from './journal.js';
import { migrateLegacyStore } from './migrate.js';
import { ModelNamedThreads } from './model-named-threads.js';
import { OpenApprovals } from './open-approvals.js';
import { journalDirOf } from './repair.js';
import { ScheduleStore } from './schedules.js';
import { SpendDays } from './spend-days.js';
import { ThreadStore } from './threads.js';

export interface Store {
  journal: Journal;
  blobs: BlobStore;
  devices: DeviceStore;
  threads: ThreadStore;
  commands: CommandLog;
  events: EventLog;
  /** Scheduled errands (a journal fold like threads). */
  schedules: ScheduleStore;
  /** Where tasks' spending moved on to a new day (for the daily and monthly caps). */
  spendDays: SpendDays;
  /** Approvals asked and not answered: a crash leaves them for the next start to close. */
  openApprovals: OpenApprovals;
  /** Threads a model named (a deleted schedule's, made from untrusted content): pushes hide the title. */
  modelNamedThreads: ModelNamedThreads;
  /** The rolling copy of the small store files taken at this start (close waits for it; so do tests that stop without close). */
  backedUp: Promise<void>;
  close(): Promise<void>;
}

const KEEP_BACKUPS = 5;

export const journalDir = journalDirOf;

/** A rolling copy of the small store files, taken at each start after they loaded cleanly. */
async function backupSmallFiles(paths: HomePaths): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dest = path.join(paths.backups, stamp);
  await fs.mkdir(dest, { recursive: true, mode: 0o700 });
  for (const name of ['devices.json'])
    await fs.copyFile(path.join(paths.store, name), path.join(dest, name)).catch(() => undefined);
  const all = (await fs.readdir(paths.backups)).sort();
  for (const old of all.slice(0, -KEEP_BACKUPS)) {
    if (old.startsWith('pre-journal-')) continue;
    await fs.rm(path.join(paths.backups, old), { recursive: true, force: true });
  }
}

/** Names in a folder, none when it does not exist. */
function namesIn(dir: string): string[] {
  try {
    return fsSync.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Temp files a crash left behind (durable writes go through `.<name>.<pid>-<hex>.tmp`). The home
 * folder holds the files written beside it (config.json, vapid.json, secrets.json,
 * connector-pins.json …): there only names of util/durable-file's shape go.
 */
const ANY_TEMP = /\.tmp$/;
const DURABLE_TEMP = /^\..+\.\d+-[0-9a-f]{8}\.tmp$/;
function removeTempFiles(dir: string, names = ANY_TEMP): void {
  for (const name of namesIn(dir)) if (names.test(name)) fsSync.rmSync(path.join(dir, name), { force: true });
}

/**
 * The disk is full and this start has to save something before it may serve: an environment
 * problem to fix, not a crash to restart from. A start that owes nothing (a home stopped cleanly,
 * with no task to mark or resume) writes nothing before it serves, so it starts and warns instead.
 */
export class DiskFullAtStartError extends Error {
  readonly exitCode = 74; // EX_IOERR
  constructor(dir: string) {
    super(
      `The disk is full at ${dir}, and Errand must save something before it can start ` +
        "(a new home's first files, or what the last run left unfinished: the end of the journal a crash cut off, " +
        'tasks to mark interrupted or to resume), so it did not start. Free some space, then start it again.',
    );
  }
}

export interface StoreOptions {
  journal?: JournalOptions;
}

export async function openStore(paths: HomePaths, opts: StoreOptions = {}): Promise<Store> {
  try {
    return await openStoreFiles(paths, opts);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof DiskFullError || code === 'ENOSPC' || code === 'EDQUOT')
      throw new DiskFullAtStartError(paths.store);
    throw err;
  }
}

async function openStoreFiles(paths: HomePaths, opts: StoreOptions): Promise<Store> {
  // Synchronous file calls while opening: nothing else runs yet, and each asynchronous one waited
  // for a trip through the thread pool (0.1-3 ms here; a home with blobs has up to 256 folders).
  fsSync.mkdirSync(paths.store, { recursive: true, mode: 0o700 });
  removeTempFiles(paths.store);
  removeTempFiles(paths.home, DURABLE_TEMP);
  // Blob files are written through temp files too (one folder per first two hex digits).
  const blobDir = path.join(paths.store, 'blobs');
  for (const sub of namesIn(blobDir)) removeTempFiles(path.join(blobDir, sub));
  const devices = await DeviceStore.open(paths.store);
  const journal = await Journal.open(journalDir(paths), opts.journal);
  const threads = new ThreadStore(journal);
  const commands = new CommandLog(journal);
  const events = new EventLog(journal);
  const schedules = new ScheduleStore(journal);
  const spendDays = new SpendDays(journal);
  const openApprovals = new OpenApprovals(journal);
  const modelNamedThreads = new ModelNamedThreads(journal);
  await journal.load((r) => events.replayed(r));
  await migrateLegacyStore(paths, journal, threads, commands);
  await threads.ready();
  // Not awaited: the copy is not needed to serve (a start waited ~4 ms for it), and close waits for it.
  const backup = backupSmallFiles(paths).catch(() => undefined);
  return {
    journal,
    blobs: new BlobStore(path.join(paths.store, 'blobs')),
    devices,
    threads,
    commands,
    events,
    schedules,
    spendDays,
    openApprovals,
    modelNamedThreads,
    backedUp: backup,
    async close() {
      await backup;
      await journal.close();
      threads.close();
      events.closeWindow();
      await devices.flush();
    },
  };
}
