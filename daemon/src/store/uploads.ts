// Files sent from the phone (POST /api/upload) wait here until a message uses them.
//
// An upload is two files in <home>/uploads: its bytes (`<id>`, fsync'd) and what the phone said about
// them (`<id>.json`, written durably after the bytes). The .json is the upload's commit point: it is
// durable before the upload is acknowledged, so an acknowledged upload survives kill -9 and power
// loss until a message uses it or it is stale. At start, whatever has no .json (a crash mid-upload)
// is removed; the uploads that were waiting are waiting again.
//
// Which message used an upload is the journal's to say (one record holds the message and its reply).
// A message takes its files into the inbox as a second name of the upload's file (agent/attachments.ts),
// after the upload has noted that name durably (`landed`); the upload is removed only once the
// command's record is committed with the message, and given back when it is not. A crash before the
// record leaves the upload waiting, with its inbox file: the resent command finds both and uses that
// same file, so nothing is left over in the inbox. A crash between the record and the removal is
// settled at the next start from the replay window (the message's item.added event names the upload).
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Attachment, ServerEvent } from '../../../shared/src/index.js';
import { stripControl } from '../util/text.js';
import { REPLY_OP } from './commands.js';
import { fsyncDir, writeFileDurably } from './durable-file.js';
import type { EventLog } from './event-log.js';
import { DiskFullError, type Journal, type Tx } from './journal.js';

export interface Upload {
  id: string;
  name: string;
  mediaType: string;
  size: number;
  file: string;
  deviceId: string;
}

/** An upload a command has taken: `landed` is the inbox file an earlier attempt gave it, if any. */
export interface TakenUpload extends Upload {
  landed?: string;
}

/** What the store needs of the journal: the open transaction, and the replay window to look back in. */
export interface UploadJournal {
  journal: Pick<Journal, 'current'>;
  events: Pick<EventLog, 'ready' | 'lastSeq' | 'framesSince'>;
}

interface UploadMeta {
  v: 1;
  id: string;
  name: string;
  mediaType: string;
  size: number;
  deviceId: string;
  /** When it was uploaded (ms): it is stale UNCLAIMED_UPLOAD_MS later. */
  at: number;
  /** The inbox file a message gave it (written before that file is made). */
  landed?: string;
}

interface Kept extends TakenUpload {
  at: number;
  /** A command is using it now: not claimable, not expired, until that command's record settles. */
  taken: boolean;
  expiry?: NodeJS.Timeout;
}

export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

/**
 * A file name safe to create anywhere and to show: no folders, no leading dots, none of the
 * characters that must not reach a reader (control, invisible and direction marks: U+202E makes
 * "\u202egnp.exe" read as "exe.png"), the one rule of util/text.ts.
 */
export function safeFileName(raw: string): string {
  const base = stripControl(raw).split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[<>:"|?*]/g, '_')
    .replace(/^[\s.]+/, '') // no hidden file, however it is spaced
    .slice(0, 120)
    .trimEnd();
  return cleaned || 'file';
}

/**
 * An upload no message used within this time is stale and deleted, with the inbox file a crashed
 * attempt gave it. The phone sends its message right after the upload; the outbox resends it after a
 * lost reply or a restart of either side.
 */
export const UNCLAIMED_UPLOAD_MS = 24 * 60 * 60 * 1000;
/** An upload found at start is kept at least this long after it, even if older: the computer may have been off. */
export const STARTUP_GRACE_MS = 60 * 60 * 1000;
/** Uploads one device may have waiting for a message at once. */
export const MAX_WAITING_UPLOADS = 32;
/** Uploads waiting, from all devices together, by count and by bytes: the folder cannot grow without limit. */
export const MAX_STORED_UPLOADS = 128;
export const MAX_STORED_UPLOAD_BYTES = 1024 * 1024 * 1024;

export class UploadTooManyError extends Error {
  constructor(
    message = `${MAX_WAITING_UPLOADS} attachments are already waiting for a message. Send the message, then attach more.`,
  ) {
    super(message);
  }
}

const UPLOAD_ID = /^upl_[A-Za-z0-9_-]{16}$/;
/** writeFileDurably's temp name for `<id>.json`: `.<id>.json.<pid>-<hex>.tmp`. */
const META_TEMP = /^\.(upl_[A-Za-z0-9_-]{16})\.json\.(\d+)-[0-9a-f]{8}\.tmp$/;
/** How far back the replay window is searched for a message that used an upload (the crash was just before this start). */
const SEARCH_EVENTS = 20_000;

/** True when the committed transaction made a message of this upload (its item names it) or succeeded. */
function usedBy(tx: Tx, id: string): boolean {
  const reply = tx.ops.find((o) => o.t === REPLY_OP)?.d as { ok?: boolean } | undefined;
  if (reply?.ok === true) return true;
  return tx.events.some((e) => namesUpload(e, id));
}

function namesUpload(e: ServerEvent, id: string): boolean {
  if (e.kind !== 'item.added') return false;
  const attachments = (e.item as { attachments?: Attachment[] }).attachments;
  return !!attachments?.some((a) => a.id === id);
}

export class UploadStore {
  private uploads = new Map<string, Kept>();
  /** Ids being written, not yet in `uploads` (with their size): the sweep leaves them alone. */
  private writing = new Map<string, { deviceId: string; size: number }>();
  private readonly loaded: Promise<void>;
  /** Set by sweep(): settles once uploads a crashed command had landed are known used or not. */
  private resolving: Promise<void> | undefined;
  private store: UploadJournal | undefined;
  private readonly startedAt = Date.now();
  private readonly keepMs: number;
  private readonly graceMs: number;

  constructor(
    private readonly dir: string,
    opts: { keepMs?: number; graceMs?: number } = {},
  ) {
    this.keepMs = opts.keepMs ?? UNCLAIMED_UPLOAD_MS;
    this.graceMs = opts.graceMs ?? STARTUP_GRACE_MS;
    this.loaded = this.load();
  }

  private metaFile(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** The uploads an earlier run acknowledged, waiting again (what is not whole is left to the sweep). */
  private async load(): Promise<void> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : '';
      if (!UPLOAD_ID.test(id) || this.uploads.has(id)) continue;
      let meta: UploadMeta;
      try {
        meta = JSON.parse(await fsp.readFile(path.join(this.dir, name), 'utf8')) as UploadMeta;
        const st = await fsp.lstat(path.join(this.dir, id));
        if (
          meta.v !== 1 ||
          meta.id !== id ||
          typeof meta.deviceId !== 'string' ||
          typeof meta.name !== 'string' ||
          typeof meta.mediaType !== 'string' ||
          typeof meta.at !== 'number' ||
          !st.isFile() ||
          st.size !== meta.size
        )
          continue;
      } catch {
        continue;
      }
      this.keep({
        id,
        name: safeFileName(meta.name),
        mediaType: meta.mediaType,
        size: meta.size,
        file: path.join(this.dir, id),
        deviceId: meta.deviceId,
        at: Math.min(meta.at, Date.now()), // a clock set back does not keep it longer
        landed: typeof meta.landed === 'string' ? meta.landed : undefined,
        taken: false,
      });
    }
  }

  private keep(u: Kept): void {
    // Found at start: kept a while even if older, so a computer that was off does not drop what the
    // phone is about to send.
    const until = Math.max(u.at + this.keepMs, this.startedAt + this.graceMs);
    u.expiry = setTimeout(() => void this.expire(u.id).catch(() => undefined), Math.max(0, until - Date.now()));
    u.expiry.unref();
    this.uploads.set(u.id, u);
  }

  private stale(u: Kept): boolean {
    return Date.now() >= Math.max(u.at + this.keepMs, this.startedAt + this.graceMs);
  }

  async save(deviceId: string, name: string, mediaType: string, data: Buffer): Promise<Upload> {
    await this.loaded;
    let mine = 0;
    let count = 0;
    let bytes = data.length;
    for (const u of [...this.uploads.values(), ...this.writing.values()]) {
      count++;
      bytes += u.size;
      if (u.deviceId === deviceId) mine++;
    }
    if (mine >= MAX_WAITING_UPLOADS) throw new UploadTooManyError();
    if (count >= MAX_STORED_UPLOADS || bytes > MAX_STORED_UPLOAD_BYTES)
      throw new UploadTooManyError(
        'Too many attachments are waiting on this computer for their messages. Send those messages (or wait a day), then attach more.',
      );
    const id = `upl_${crypto.randomBytes(12).toString('base64url')}`;
    const file = path.join(this.dir, id);
    const at = Date.now();
    const upload = { id, name: safeFileName(name), mediaType, size: data.length, file, deviceId };
    // Counted from now on, so uploads saved at the same time cannot pass the limits together.
    this.writing.set(id, { deviceId, size: data.length });
    try {
      const made = await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
      if (made) await fsyncDir(path.dirname(made));
      const handle = await fsp.open(file, 'wx', 0o600);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // The commit point: renamed into place and the folder fsync'd (which makes the bytes' name durable too).
      const meta: UploadMeta = { v: 1, id, name: upload.name, mediaType, size: data.length, deviceId, at };
      await writeFileDurably(this.metaFile(id), JSON.stringify(meta), false);
    } catch (err) {
      await fsp.rm(this.metaFile(id), { force: true });
      await fsp.rm(file, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      throw code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError(this.dir) : err;
    } finally {
      this.writing.delete(id);
    }
    this.keep({ ...upload, at, taken: false });
    return upload;
  }

  /** Take an upload for good (the caller owns its file from now on); only its device may, and only once. */
  claim(id: string, deviceId: string): Upload | undefined {
    const u = this.uploads.get(id);
    if (!u || u.deviceId !== deviceId || u.taken) return undefined;
    this.forget(u);
    fs.rmSync(this.metaFile(id), { force: true });
    return { id: u.id, name: u.name, mediaType: u.mediaType, size: u.size, file: u.file, deviceId: u.deviceId };
  }

  /**
   * Take an upload for a message that is being made: only the device that sent it may, and not while
   * another command has it. Settle with `settleAfterCommit` (or `release` when the command fails first).
   */
  async take(id: string, deviceId: string): Promise<TakenUpload | undefined> {
    await this.loaded;
    let u = this.uploads.get(id);
    // A crashed command gave it an inbox file: first know whether that command's record was committed.
    if (u?.landed && this.resolving) {
      await this.resolving;
      u = this.uploads.get(id);
    }
    if (!u || u.deviceId !== deviceId || u.taken) return undefined;
    u.taken = true;
    return {
      id: u.id,
      name: u.name,
      mediaType: u.mediaType,
      size: u.size,
      file: u.file,
      deviceId: u.deviceId,
      landed: u.landed,
    };
  }

  /** Note durably, before the file is made, which inbox file a taken upload gets. */
  async land(id: string, file: string): Promise<void> {
    const u = this.uploads.get(id);
    if (!u) throw new Error(`upload ${id} is gone`);
    const meta: UploadMeta = {
      v: 1,
      id,
      name: u.name,
      mediaType: u.mediaType,
      size: u.size,
      deviceId: u.deviceId,
      at: u.at,
      landed: file,
    };
    await writeFileDurably(this.metaFile(id), JSON.stringify(meta), false);
    u.landed = file;
  }

  /**
   * The command that took these uploads is being committed: each is removed once its record is
   * durable with the message, and waits again if the record failed or the command did not make it.
   */
  settleAfterCommit(ids: string[]): void {
    const tx = this.store?.journal.current();
    if (!tx) {
      for (const id of ids) this.used(id);
      return;
    }
    let failed = false;
    tx.failHooks.push(() => {
      failed = true;
    });
    // Before the run the command started (pushed later): the file has one name when the agent sees it.
    tx.afterCommit.push(() => {
      for (const id of ids)
        if (!failed && usedBy(tx, id)) this.used(id);
        else this.release(id);
    });
  }

  /** Give a taken upload back: it waits again, with the inbox file it was given. */
  release(id: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    u.taken = false;
    if (this.stale(u)) void this.expire(id).catch(() => undefined);
  }

  /** A committed message uses it: its own files go (the inbox file stays, the message's). */
  private used(id: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    this.forget(u);
    // At once, so the inbox file has one name before the task that reads it starts.
    fs.rmSync(u.file, { force: true });
    fs.rmSync(this.metaFile(id), { force: true });
  }

  private forget(u: Kept): void {
    clearTimeout(u.expiry);
    this.uploads.delete(u.id);
  }

  /** Stale: deleted, with the inbox file a crashed or failed attempt gave it (no committed message has it). */
  private async expire(id: string): Promise<void> {
    if (this.uploads.get(id)?.landed && this.resolving) await this.resolving;
    const u = this.uploads.get(id);
    if (!u || u.taken) return;
    this.forget(u);
    // Only an inbox file that is this upload's bytes (never a file the user put there since).
    if (u.landed && path.basename(path.dirname(u.landed)) === 'inbox' && (await sameFile(u.file, u.landed)))
      await fsp.rm(u.landed, { force: true });
    await fsp.rm(this.metaFile(id), { force: true });
    await fsp.rm(u.file, { force: true });
  }

  /**
   * At start: settles uploads a crashed command had landed (used if the replay window holds the
   * message that names them), and deletes what is not a whole waiting upload (a crash mid-upload).
   * Stale uploads go when their time is up (see `keep`).
   */
  async sweep(store?: UploadJournal): Promise<void> {
    if (store) {
      this.store = store;
      this.resolving ??= this.loaded.then(() => this.resolveLanded()).catch(() => undefined);
    }
    await this.loaded;
    await this.resolving;
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : name;
      if (this.uploads.has(id) || this.writing.has(id)) continue;
      // A durable write of ours in flight (a message noting an inbox file, an upload's .json).
      const temp = META_TEMP.exec(name);
      if (temp && Number(temp[2]) === process.pid && (this.uploads.has(temp[1]) || this.writing.has(temp[1]))) continue;
      await fsp.rm(path.join(this.dir, name), { force: true, recursive: true });
    }
  }

  private async resolveLanded(): Promise<void> {
    const landed = [...this.uploads.values()].filter((u) => u.landed && !u.taken);
    if (!landed.length || !this.store) return;
    const events = this.store.events;
    await events.ready();
    let frames: Array<{ frame: Buffer }> | undefined;
    for (let back = SEARCH_EVENTS; back >= 1 && !frames; back = Math.floor(back / 2))
      frames = events.framesSince(Math.max(0, events.lastSeq - back));
    for (const { frame } of frames ?? []) {
      const text = frame.toString('utf8');
      for (const u of landed) {
        if (!text.includes(`"${u.id}"`)) continue;
        const e = (JSON.parse(text) as { event: ServerEvent }).event;
        if (namesUpload(e, u.id) && !this.uploads.get(u.id)?.taken) this.used(u.id);
      }
    }
  }
}

/** The same file: one inode with two names (or, where hard links are not possible, a whole copy). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  let sa: fs.Stats;
  let sb: fs.Stats;
  try {
    sa = await fsp.lstat(a);
    sb = await fsp.lstat(b);
  } catch {
    return false;
  }
  if (!sa.isFile() || !sb.isFile()) return false;
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.size !== sb.size) return false;
  try {
    return (await fsp.readFile(a)).equals(await fsp.readFile(b));
  } catch {
    return false;
  }
}
