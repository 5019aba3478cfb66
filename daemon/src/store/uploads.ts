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

export class UploadStore {
  private uploads = new Map<string, Upload>();
  constructor(private readonly dir: string) {}

  async save(deviceId: string, name: string, mediaType: string, data: Buffer): Promise<Upload> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = `upl_${crypto.randomBytes(12).toString('base64url')}`;
    const file = path.join(this.dir, id);
    const handle = await fs.open(file, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const upload: Upload = { id, name: safeFileName(name), mediaType, size: data.length, file, deviceId };
    this.uploads.set(id, upload);
    return upload;
  }

  /** Take an upload for a message; only the device that sent it may use it, and only once. */
  claim(id: string, deviceId: string): Upload | undefined {
    const u = this.uploads.get(id);
    if (!u || u.deviceId !== deviceId) return undefined;
    this.uploads.delete(id);
    return u;
  }
}
