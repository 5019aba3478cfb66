// Files sent from the phone (POST /api/upload) wait here until a message claims them.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface Upload {
  id: string;
  name: string;
  mediaType: string;
  size: number;
  file: string;
  deviceId: string;
}

export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

/** A file name safe to create anywhere: no folders, no control characters, no leading dots. */
export function safeFileName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 120);
  return cleaned || 'file';
}

/** An upload no message claimed within this time is deleted (the phone sends its message right after). */
export const UNCLAIMED_UPLOAD_MS = 60 * 60 * 1000;
/** Uploads one device may have waiting for a message at once. */
export const MAX_WAITING_UPLOADS = 32;

export class UploadTooManyError extends Error {
  constructor() {
    super(`${MAX_WAITING_UPLOADS} attachments are already waiting for a message. Send the message, then attach more.`);
  }
}

export class UploadStore {
  private uploads = new Map<string, Upload & { expiry: NodeJS.Timeout }>();
  /** Ids being written, not yet in `uploads`: the start-up sweep leaves them alone. */
  private writing = new Set<string>();
  constructor(private readonly dir: string) {}

  async save(deviceId: string, name: string, mediaType: string, data: Buffer): Promise<Upload> {
    let waiting = 0;
    for (const u of this.uploads.values()) if (u.deviceId === deviceId) waiting++;
    if (waiting >= MAX_WAITING_UPLOADS) throw new UploadTooManyError();
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = `upl_${crypto.randomBytes(12).toString('base64url')}`;
    const file = path.join(this.dir, id);
    this.writing.add(id);
    try {
      const handle = await fs.open(file, 'w', 0o600);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      await fs.rm(file, { force: true });
      throw err;
    } finally {
      this.writing.delete(id);
    }
    const expiry = setTimeout(() => {
      if (this.uploads.delete(id)) void fs.rm(file, { force: true });
    }, UNCLAIMED_UPLOAD_MS);
    expiry.unref();
    const upload = { id, name: safeFileName(name), mediaType, size: data.length, file, deviceId };
    this.uploads.set(id, { ...upload, expiry });
    return upload;
  }

  /** Take an upload for a message; only the device that sent it may use it, and only once. */
  claim(id: string, deviceId: string): Upload | undefined {
    const u = this.uploads.get(id);
    if (!u || u.deviceId !== deviceId) return undefined;
    this.uploads.delete(id);
    clearTimeout(u.expiry);
    const { expiry: _, ...upload } = u;
    return upload;
  }

  /**
   * Deletes what an earlier run left: which uploads were waiting is kept only in memory, so after a
   * restart no message can claim them and nothing else would ever remove them.
   */
  async sweep(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names)
      if (!this.uploads.has(name) && !this.writing.has(name))
        await fs.rm(path.join(this.dir, name), { force: true, recursive: true });
  }
}
