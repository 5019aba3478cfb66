// A home written before the journal (one file per thread, index.json, commands.json, an event log
// of JSON lines) is moved into the journal on first start: copied to backups/pre-journal-<time>
// first, read and checked, written as the journal's first snapshot, and only then removed.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { HomePaths } from '../config/paths.js';
import type { CommandLog } from './commands.js';
import { StoreCorruptError } from './durable-file.js';
import type { Journal } from './journal.js';
import { THREAD_ID, type ThreadDoc, ThreadDocSchema, type ThreadStore } from './threads.js';

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new StoreCorruptError(file, `cannot be read (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StoreCorruptError(file, `is not valid JSON (${(err as Error).message})`);
  }
}

function schemaOf(file: string, value: unknown): Record<string, unknown> {
  const obj = value as Record<string, unknown>;
  if (!obj || typeof obj !== 'object' || obj.schema !== 1)
    throw new StoreCorruptError(file, `has schema version ${String(obj?.schema)}, which this Errand cannot migrate`);
  return obj;
}

/** The last sequence number in the old event log (a torn last line is ignored). */
function lastEventSeq(dir: string): number {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((f) => /^events-\d{12}\.jsonl$/.test(f));
  } catch {
    return 0;
  }
  let seq = 0;
  for (const name of names.sort()) {
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { seq?: unknown };
        if (typeof e.seq === 'number' && e.seq > seq) seq = e.seq;
      } catch {
        /* a torn line */
      }
    }
  }
  return seq;
}

export async function migrateLegacyStore(
  paths: HomePaths,
  journal: Journal,
  threads: ThreadStore,
  commands: CommandLog,
): Promise<boolean> {
  const index = path.join(paths.store, 'index.json');
  const threadDir = path.join(paths.store, 'threads');
  const commandsFile = path.join(paths.store, 'commands.json');
  if (!journal.isEmpty() || !fs.existsSync(index)) return false;

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backup = path.join(paths.backups, `pre-journal-${stamp}`);
  await fsp.mkdir(backup, { recursive: true, mode: 0o700 });
  for (const from of [index, commandsFile, threadDir, paths.events]) {
    if (fs.existsSync(from)) await fsp.cp(from, path.join(backup, path.basename(from)), { recursive: true });
  }

  const idx = schemaOf(index, readJson(index));
  if (typeof idx.hostId !== 'string') throw new StoreCorruptError(index, 'has no host id');
  threads.adoptHost(idx.hostId);
  const names = fs.existsSync(threadDir) ? fs.readdirSync(threadDir) : [];
  for (const name of names) {
    if (!name.endsWith('.json') || !THREAD_ID.test(name.slice(0, -5))) continue;
    const file = path.join(threadDir, name);
    const r = ThreadDocSchema.safeParse(schemaOf(file, readJson(file)));
    if (!r.success) throw new StoreCorruptError(file, `does not match schema version 1: ${r.error.issues[0].message}`);
    threads.adopt(r.data as ThreadDoc);
  }
  if (fs.existsSync(commandsFile)) {
    const doc = schemaOf(commandsFile, readJson(commandsFile));
    for (const e of (doc.entries as Array<{ key: string; ok: boolean; result: unknown }>) ?? []) {
      const cut = e.key.indexOf(':');
      if (cut > 0) commands.adopt(e.key.slice(0, cut), e.key.slice(cut + 1), { ok: e.ok, result: e.result });
    }
  }
  journal.adoptSeq(lastEventSeq(paths.events));
  await journal.snapshot();
  // Only now, with the snapshot durable, the old files go (their copy is in the backup).
  await fsp.rm(index, { force: true });
  await fsp.rm(commandsFile, { force: true });
  await fsp.rm(path.join(paths.store, 'index.json.bak'), { force: true });
  await fsp.rm(threadDir, { recursive: true, force: true });
  await fsp.rm(paths.events, { recursive: true, force: true });
  journal.notices.push(`The store was moved into the journal; a copy of the old files is in ${backup}.`);
  return true;
}
