// Large tool outputs as blobs: write-once files named by the sha256 of their content
// (store/blobs/<2 hex>/<64 hex>), written durably before any record that names them. Threads and
// events carry a bounded preview and the blob's id; the phone fetches the whole output on demand.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurably } from './durable-file.js';

export interface BlobRef {
  id: string;
  bytes: number;
}

const ID = /^[a-f0-9]{64}$/;

export class BlobStore {
  constructor(private readonly dir: string) {}

  private fileOf(id: string): string {
    if (!ID.test(id)) throw new Error(`invalid blob id ${id}`);
    return path.join(this.dir, id.slice(0, 2), id);
  }

  /** Store `text` (once per content); resolves when it is durable. */
  async put(text: string): Promise<BlobRef> {
    const data = Buffer.from(text, 'utf8');
    const id = crypto.createHash('sha256').update(data).digest('hex');
    const file = this.fileOf(id);
    if (!fs.existsSync(file)) {
      await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await writeFileDurably(file, text, false);
    }
    return { id, bytes: data.length };
  }

  async get(id: string): Promise<string | undefined> {
    try {
      return await fsp.readFile(this.fileOf(id), 'utf8');
    } catch {
      return undefined;
    }
  }
}
