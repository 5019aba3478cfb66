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
  constructor(readonly file: string) {}

  all(): Record<string, string> {
    try {
      const v = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        return Object.fromEntries(
          Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x === 'string'),
        ) as Record<string, string>;
      }
    } catch {
      /* none yet */
    }
    return {};
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
