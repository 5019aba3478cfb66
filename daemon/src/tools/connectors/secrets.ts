// Secrets for connectors (environment values, auth headers), kept in secrets.json (0600) in the
// home folder. Config files and clients only ever see their names.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../../util/durable-file.js';

/**
 * Make the folder secrets.json lives in (the home folder) as `errand start` makes it: owner only,
 * created with its parents before the first start, and a folder made by hand (0755) tightened.
 */
export function preparePrivateFolder(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (fs.statSync(dir).mode & 0o077) fs.chmodSync(dir, 0o700);
}

export class SecretStore {
  /** The file as last read, by identity: redaction asks for the values on every tool call and item. */
  private cache: { key: string; values: Record<string, string> } | undefined;

  constructor(readonly file: string) {}

  all(): Record<string, string> {
    const st = fs.statSync(this.file, { throwIfNoEntry: false });
    if (!st) return {};
    // Written by rename (writeFileDurably) or by hand: a new inode, time or size either way.
    const key = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (this.cache?.key === key) return { ...this.cache.values };
    let values: Record<string, string> = {};
    try {
      const v = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        values = Object.fromEntries(
          Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x === 'string'),
        ) as Record<string, string>;
      }
    } catch {
      /* not readable (yet): none */
    }
    this.cache = { key, values };
    return { ...values };
  }

  get(name: string): string | undefined {
    return this.all()[name];
  }

  /** Every secret value, so logs and audit entries can redact them. */
  values(): string[] {
    return Object.values(this.all());
  }

  async set(values: Record<string, string>): Promise<void> {
    preparePrivateFolder(path.dirname(this.file));
    await writeFileDurably(this.file, JSON.stringify({ ...this.all(), ...values }, null, 2) + '\n', false, 0o600);
  }

  async removePrefix(prefix: string): Promise<void> {
    const all = this.all();
    const kept = Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith(prefix)));
    if (Object.keys(kept).length !== Object.keys(all).length)
      await writeFileDurably(this.file, JSON.stringify(kept, null, 2) + '\n', false, 0o600);
  }
}
