// The daemon's durable state, opened together. Opening refuses a corrupt or unknown store.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { HomePaths } from '../config/paths.js';
import { CommandLog } from './commands.js';
import { DeviceStore } from './devices.js';
import { EventLog } from './event-log.js';
import { ThreadStore } from './threads.js';

export interface Store {
  devices: DeviceStore;
  threads: ThreadStore;
  commands: CommandLog;
  events: EventLog;
  close(): Promise<void>;
}

const KEEP_BACKUPS = 5;

/** A rolling copy of the small store files, taken at each start after they loaded cleanly. */
async function backupSmallFiles(paths: HomePaths): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dest = path.join(paths.backups, stamp);
  await fs.mkdir(dest, { recursive: true, mode: 0o700 });
  for (const name of ['index.json', 'devices.json', 'commands.json']) {
    await fs.copyFile(path.join(paths.store, name), path.join(dest, name)).catch(() => undefined);
  }
  const all = (await fs.readdir(paths.backups)).sort();
  for (const old of all.slice(0, -KEEP_BACKUPS))
    await fs.rm(path.join(paths.backups, old), { recursive: true, force: true });
}

export async function openStore(paths: HomePaths): Promise<Store> {
  await fs.mkdir(paths.store, { recursive: true, mode: 0o700 });
  const devices = await DeviceStore.open(paths.store);
  const threads = await ThreadStore.open(paths.store);
  const commands = await CommandLog.open(paths.store);
  const events = await EventLog.open(paths.events);
  await devices.flush();
  await backupSmallFiles(paths);
  return {
    devices,
    threads,
    commands,
    events,
    async close() {
      await events.close();
      await Promise.all([threads.flush(), devices.flush()]);
    },
  };
}
